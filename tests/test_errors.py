import pickle
from pathlib import Path

from vidcls.errors import VideoReadError


def test_a_file_error_keeps_its_path_and_reason_apart():
    error = VideoReadError.for_file("clips/a: b.mp4", "decoding failed: end of file")
    assert str(error) == "clips/a: b.mp4: decoding failed: end of file"
    assert (error.path, error.reason) == (Path("clips/a: b.mp4"), "decoding failed: end of file")


def test_the_fields_survive_pickling_and_a_bare_message_is_its_own_reason():
    again = pickle.loads(pickle.dumps(VideoReadError.for_file("a.mp4", "no frames")))  # as from a worker process
    assert (str(again), again.path, again.reason) == ("a.mp4: no frames", Path("a.mp4"), "no frames")
    bare = VideoReadError("Caught VideoReadError in DataLoader worker process 0")  # how a DataLoader re-raises
    assert (bare.path, bare.reason) == (None, str(bare))
