"""The one generator of test videos: an FFmpeg test source encoded as a test asks (nothing binary is committed)."""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from pathlib import Path

# FFmpeg's lavfi sources, by what a test needs of the pixels
PATTERNS = {
    # frame i is a flat grey of level 10 * i (mod 256): a decoded frame's mean names its index
    "counter": "color=c=black:size={size}:rate={fps},format=rgb24,"
               "geq=r='mod(10*N,256)':g='mod(10*N,256)':b='mod(10*N,256)'",
    "testsrc": "testsrc=size={size}:rate={fps}",  # colour bars and a moving counter
    "testsrc2": "testsrc2=size={size}:rate={fps}",  # moving shapes: motion to encode
    "noisy": "testsrc2=size={size}:rate={fps},noise=alls=10:allf=t",  # + temporal noise: decodes like camera footage
}


def make_video(
    path: str | Path,
    *,
    frames: int = 24,
    fps: float = 12,
    size: tuple[int, int] = (48, 32),
    pattern: str = "counter",
    codec: str | None = "libx264",
    pixel_format: str = "yuv420p",
    keyframe_interval: int | None = None,
    audio: bool = False,
    faststart: bool = False,
    options: Sequence[str] = (),
) -> Path:
    """Write ``frames`` frames of ``pattern`` at ``fps`` and ``size`` (width, height) to ``path``; the container is its suffix.

    ``codec`` None takes the container's default (as a file from elsewhere has it); ``audio`` adds
    a sine soundtrack as long as the video, in the container's default audio codec unless
    ``options`` name one; ``faststart`` puts an MP4's index at the front; ``options`` go to FFmpeg
    before the output (encoder settings such as ``-preset ultrafast`` or ``-bf 2``).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    source = PATTERNS[pattern].format(size=f"{size[0]}x{size[1]}", fps=fps)
    command = ["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i", source]
    if audio:
        command += ["-f", "lavfi", "-i", f"sine=duration={frames / fps:g}"]
    command += ["-frames:v", str(frames), "-pix_fmt", pixel_format]
    command += ["-c:v", codec] if codec else []
    command += ["-g", str(keyframe_interval)] if keyframe_interval else []
    command += ["-movflags", "+faststart"] if faststart else []
    subprocess.run([*command, *options, str(path)], check=True, timeout=120)
    return path
