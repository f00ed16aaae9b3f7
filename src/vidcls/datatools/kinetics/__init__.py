"""Kinetics 400/600/700: read the official CSVs, lay clips out as class folders, index existing copies.

A clip lives at ``DIR/<split>/<label folder>/<youtube_id>_<start:06d>_<end:06d>.mp4`` (the
crawler's and the CVDF mirror's file name); unlabelled test clips sit in ``DIR/test/`` itself.
Labels such as "massaging person's head" are not safe folder names, so folders are sanitised
and the exact labels are kept beside them:

- ``DIR/classes.txt``: the exact labels, sorted: the class index order (``--data.classes``).
- ``DIR/classes.csv``: ``folder,label``, so a folder name always leads back to its label.
- ``DIR/<split>.csv``: ``path,label`` of the finished clips with their exact labels
  (``--data.train_list`` / ``--data.val_list``); unlabelled splits get no list.
- ``DIR/download_report.csv``: the last status of every clip (see :class:`~.report.Report`).

A run with a :class:`~vidcls.datatools.shards.Shard` handles only its share of the clips and
writes only ``DIR/download_report.I-of-N.csv`` and ``.json`` (its statuses; what it read and
whether it ran to its end); :func:`~.run.merge_shards` then writes the files above from them, as
one unsharded run writes them.

The modules, in the order a run uses them: :mod:`.clips` reads the official CSVs, :mod:`.folders`
names the label folders, :mod:`.plan` says what goes where, :mod:`.lists` writes the classes and
split lists, :mod:`.report` the statuses, :mod:`.run` the files around a run and the merge of
shards, :mod:`.ingest` links an existing copy.

Train with ``vidcls fit ... --data.train_list DIR/train.csv --data.val_list DIR/val.csv
--data.classes DIR/classes.txt``. Downloading is in :mod:`vidcls.datatools.download`.
"""
