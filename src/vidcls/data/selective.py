"""Decode only what the requested frames depend on, with PyAV (FFmpeg's libavcodec).

A frame needs the keyframe before it and the reference frames in between, nothing else. The
packets' timestamps and keyframe flags are read first (demuxing: no decoding); the decoder is
then fed only from the keyframe before each requested frame up to that frame, and told to skip
the frames that no other frame references (``AVDISCARD_NONREF``: x264's non-reference B-frames,
half the frames of a clip encoded with FFmpeg's defaults). torchcodec decodes every frame from
the keyframe on. The pixels are the same (tests compare them with a full decode); on
Kinetics-like clips, one core, this reads a random 8-frame clip 1.4-1.7x faster than torchcodec,
within a few percent of the decoding work itself (``benchmarks/RESULTS.md``).

Only containers whose packets carry true presentation timestamps (MP4/MOV, Matroska/WebM) are
read this way; :class:`~vidcls.data.decoding.VideoReader` reads the others with torchcodec.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
import torch

# FFmpeg demuxers whose packet timestamps are the frames' own (AVI's are not: packed B-frames)
TIMESTAMPED_FORMATS = {"mov", "mp4", "matroska", "webm"}


class FramesMissing(Exception):
    """The decoder did not return a requested frame: this file's timestamps cannot be trusted."""


@dataclass(frozen=True)
class DecodePlan:
    """Packets to feed, in decode order, for the frames shown at some times."""

    runs: list[tuple[int, int]]  # (first, last) packet index; each run starts at a keyframe
    wanted: dict[int, list[int]]  # packet index → the positions of the requested times it shows


def plan_decode(pts: Sequence[int], keyframes: Sequence[bool], targets: Sequence[int]) -> DecodePlan:
    """The packets (decode order) that produce the frames shown at ``targets`` (all in stream time base).

    The frame shown at ``t`` is the one with the largest pts <= ``t`` (the first frame for an
    earlier ``t``). A run continues while the next needed keyframe lies within reach; otherwise
    the decoder jumps to that keyframe and the packets in between are never read.
    """
    by_pts = sorted(range(len(pts)), key=pts.__getitem__)
    sorted_pts = [pts[i] for i in by_pts]
    wanted: dict[int, list[int]] = {}
    for slot, target in enumerate(targets):
        index = by_pts[max(bisect.bisect_right(sorted_pts, target) - 1, 0)]
        wanted.setdefault(index, []).append(slot)
    runs: list[tuple[int, int]] = []
    for index in sorted(wanted):
        entry = _entry_keyframe(index, pts, keyframes)
        while runs and entry <= runs[-1][1] + 1:  # reachable by decoding on: merge
            entry = min(entry, runs.pop()[0])
        runs.append((entry, index))
    return DecodePlan(runs, wanted)


def _entry_keyframe(index: int, pts: Sequence[int], keyframes: Sequence[bool]) -> int:
    """The last keyframe before packet ``index`` that is also shown before it.

    In an open GOP, frames decoded after a keyframe but shown before it reference the previous
    group, so decoding them must start at the keyframe before that one.
    """
    for i in range(index, -1, -1):
        if keyframes[i] and pts[i] <= pts[index]:
            return i
    return 0


class SelectiveDecoder:
    """The first video stream of an open container, read by :func:`plan_decode`."""

    def __init__(self, container: av.container.InputContainer, num_threads: int = 1):
        self.container = container
        self.stream = container.streams.video[0]
        context = self.stream.codec_context
        context.thread_count = num_threads
        if num_threads != 1:
            context.thread_type = "AUTO"  # frame threads, the only kind that helps one-slice H.264 (little here)

    @classmethod
    def open(cls, path: str | Path, num_threads: int = 1) -> SelectiveDecoder | None:
        """The decoder, or None when the container's timestamps cannot drive it (then use torchcodec)."""
        container = av.open(str(path))
        if not container.streams.video:
            container.close()
            raise ValueError("no video stream")
        if not TIMESTAMPED_FORMATS & set(container.format.name.split(",")):
            container.close()
            return None
        return cls(container, num_threads)

    def frames_at(self, times: Sequence[float]) -> torch.Tensor:
        """Frames shown at ``times`` (seconds, within the video) as uint8 ``T×C×H×W``."""
        frames = [_displayed(frame) for frame in self.decode(times)]
        return torch.from_numpy(np.stack(frames)).permute(0, 3, 1, 2)

    def decode(self, times: Sequence[float]) -> list[av.VideoFrame]:
        """The decoded frames shown at ``times``, one per time, as the decoder returns them (YUV)."""
        time_base = self.stream.time_base
        # a thousandth of a tick absorbs float error: 0.1 s is frame 3 at 30 fps, not frame 2
        targets = [math.floor(t / time_base + 1e-3) for t in times]
        packets = self._demux(min(targets), max(targets))
        plan = plan_decode([p.pts for p in packets], [p.is_keyframe for p in packets], targets)
        slots_of_pts = {packets[i].pts: slots for i, slots in plan.wanted.items()}
        frames: list[av.VideoFrame | None] = [None] * len(times)

        def keep(decoded: Iterable[av.VideoFrame]) -> None:
            for frame in decoded:
                for slot in slots_of_pts.get(frame.pts, ()):
                    frames[slot] = frame

        context = self.stream.codec_context
        try:
            for number, (first, last) in enumerate(plan.runs):
                if number:  # jump to the next keyframe: drain what the decoder holds, then reset it
                    keep(context.decode(None))
                    context.flush_buffers()
                for i in range(first, last + 1):
                    context.skip_frame = "DEFAULT" if i in plan.wanted else "NONREF"
                    keep(context.decode(packets[i]))
            keep(context.decode(None))
        finally:
            context.skip_frame = "DEFAULT"
            context.flush_buffers()  # ready for the next call
        if any(frame is None for frame in frames):
            raise FramesMissing(f"no frame decoded for times {[t for t, f in zip(times, frames) if f is None]}")
        return frames

    def _demux(self, first: int, last: int) -> list[av.Packet]:
        """Packets from a keyframe shown by pts ``first`` until every frame shown by pts ``last`` is in.

        Containers index keyframes by decode time; in an open GOP the keyframe found can be shown
        after ``first``, so seeking steps back a keyframe at a time (a few times at most).
        """
        seek_to = first
        for _ in range(4):
            self.container.seek(seek_to, stream=self.stream, backward=True, any_frame=False)
            packets = []
            for packet in self.container.demux(self.stream):
                if packet.pts is None:
                    if packet.size == 0:  # the empty packet that ends the stream
                        break
                    raise FramesMissing("a packet has no timestamp")
                packets.append(packet)
                if packet.dts is not None and packet.dts > last:  # pts >= dts: no later packet is shown by `last`
                    break
            if packets and packets[0].is_keyframe and packets[0].pts <= first:
                return packets
            if not packets or packets[0].dts is None or packets[0].dts <= 0:
                break
            seek_to = min(seek_to, packets[0].dts) - 1
        raise FramesMissing("seeking found no keyframe shown before the first requested frame")


def decode_on(container: av.container.InputContainer, times: Sequence[float], begin: float, fps: float) -> torch.Tensor:
    """Frames shown at ``times`` (seconds), counting the frames of the first video stream from its start.

    The fallback for containers whose timestamps cannot be trusted (AVIs with packed B-frames,
    where FFmpeg's frame times are a frame late or out of order): frame ``k`` is the one shown
    at ``begin + k / fps``. It decodes from the start, keeping only the frames asked for; a time
    past the last frame gets the last frame.
    """
    wanted: dict[int, list[int]] = {}
    for slot, time in enumerate(times):
        wanted.setdefault(max(math.floor((time - begin) * fps + 1e-3), 0), []).append(slot)
    frames: list[np.ndarray | None] = [None] * len(times)
    last = None
    for index, frame in enumerate(container.decode(container.streams.video[0])):
        last = frame
        for slot in wanted.pop(index, ()):
            frames[slot] = _displayed(frame)
        if not wanted:
            break
    if last is None:
        raise FramesMissing("no frame decoded")
    for slots in wanted.values():
        for slot in slots:
            frames[slot] = _displayed(last)
    return torch.from_numpy(np.stack(frames)).permute(0, 3, 1, 2)


def _displayed(frame: av.VideoFrame) -> np.ndarray:
    """The frame as shown (``H×W×3`` RGB): the container's display rotation applied, as FFmpeg and torchcodec do.

    ``frame.rotation`` is the display matrix's angle, counterclockwise (``rotation=90`` in ffprobe): the
    picture is turned that way, a quarter turn at a time (checked against ``ffmpeg``'s autorotation).
    """
    pixels = frame.to_ndarray(format="rgb24")
    quarter_turns = round(frame.rotation / 90) % 4
    return np.rot90(pixels, quarter_turns) if quarter_turns else pixels
