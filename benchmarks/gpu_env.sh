#!/usr/bin/env bash
# Builds .gpuenv/ (git-ignored): what benchmarks/gpu_check.sh installs on the lent GPU machine.
# That machine has no network, and its python3 (3.12 with torch 2.11+cu130, torchvision 0.26,
# lightning 2.6, numpy, pillow, ...; /work/.library/device/KINDS.md lists them) lacks vidcls's
# decoding and data libraries, and no FFmpeg is listed there. vidcls runs there from src/ on that torch,
# not on the versions pyproject.toml pins (a torch wheel is far over the 64 MiB a call carries).
#
#   .gpuenv/wheels/     the missing packages for CPython 3.12, manylinux x86-64, at the versions
#                       the project's .venv tests with; pytorchvideo, fvcore and iopath publish no
#                       wheels, so pip builds theirs (pure Python). torchcodec >= 0.12 runs on torch
#                       >= 2.11 (its README); PyPI's 0.17.0 wheel is the CUDA 13.0 build.
#   .gpuenv/bin/ffmpeg  FFmpeg's command-line tool, built from Debian's source of the FFmpeg that
#                       PyAV's wheel bundles (8.1.2) and linked against that bundled copy
#                       (av.libs/, with libx264 and NVDEC): one FFmpeg, 0.4 MB, serves PyAV,
#                       torchcodec (gpu_check.sh gives av.libs the sonames torchcodec looks for),
#                       `vidcls data prepare` and the test clips.
#
#   bash benchmarks/gpu_env.sh        # from the repository root the device tool sends; ~2 minutes
#
# Needs pip (PyPI), apt-get (Debian: the source index of its development suite, read into a
# temporary folder; the system's apt state is untouched), gcc, make, unzip and xz.
set -euo pipefail
cd "$(dirname "$0")/.."
ENV=.gpuenv
PYTHON=${PYTHON:-.venv/bin/python}
AV=18.1.0 FFMPEG=8.1.2 FFMPEG_DEBIAN=7:8.1.2-2  # PyAV 18.1.0 bundles FFmpeg 8.1.2 (av.ffmpeg_version_info)
WHEELS=(av==$AV torchcodec==0.17.0 torchdata==0.11.0 jsonargparse==4.53.0 docstring-parser==0.18.0
        typeshed-client==2.15.0 termcolor==3.3.0 yacs==0.1.8)
SOURCE_ONLY=(pytorchvideo==0.1.5 fvcore==0.1.5.post20221221 iopath==0.1.10)
TARGET=(--python-version 3.12 --implementation cp --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64
        --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64)

rm -rf "$ENV" && mkdir -p "$ENV/wheels" "$ENV/bin"
"$PYTHON" -m pip download -q --no-deps --only-binary=:all: "${TARGET[@]}" -d "$ENV/wheels" "${WHEELS[@]}"
"$PYTHON" -m pip wheel -q --no-deps -w "$ENV/wheels" "${SOURCE_ONLY[@]}"

BUILD=$(mktemp -d)
trap 'rm -rf "$BUILD"' EXIT
chmod 755 "$BUILD"  # apt fetches as its own user
unzip -q "$ENV"/wheels/av-$AV-*.whl 'av.libs/*' -d "$BUILD/site" && mkdir "$BUILD/site/bin"
echo "deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian sid main" \
    >"$BUILD/sources.list"
APT=(-o "Dir::Etc::SourceList=$BUILD/sources.list" -o Dir::Etc::SourceParts=/dev/null -o "Dir::State::Lists=$BUILD/lists")
mkdir -p "$BUILD/lists/partial"
apt-get "${APT[@]}" update -qq
(cd "$BUILD" && apt-get "${APT[@]}" source --download-only -qq "ffmpeg=$FFMPEG_DEBIAN" 2>/dev/null)
tar -xJf "$BUILD/ffmpeg_$FFMPEG.orig.tar.xz" -C "$BUILD"
(
    cd "$BUILD/ffmpeg-$FFMPEG"
    # the configuration only decides what the tool's own code compiles; the libraries are PyAV's
    ./configure --disable-x86asm --disable-autodetect --enable-gpl --disable-doc --enable-shared --disable-static \
        --disable-ffplay --disable-ffprobe >/dev/null
    # the tool's object files, as FFmpeg's makefiles list them (the first make also generates headers: last line)
    objects=$(make -s -f Makefile -f - print-ffmpeg-objects <<<'print-ffmpeg-objects: ; @echo $(OBJS-ffmpeg)' | tail -1)
    # shellcheck disable=SC2086  # one word per object file
    make -s -j"$(nproc)" $objects >/dev/null
    libs=()
    for lib in avdevice avfilter avformat avcodec swresample swscale avutil; do
        libs+=("$(ls "$BUILD"/site/av.libs/lib$lib-*.so.*)")
    done
    # shellcheck disable=SC2016,SC2086  # $ORIGIN is the linker's; one word per object file
    gcc -s -o "$BUILD/site/bin/ffmpeg" $objects "${libs[@]}" -lm -lpthread \
        -Wl,-rpath-link,"$BUILD/site/av.libs" -Wl,-rpath,'$ORIGIN/../av.libs'
)
"$BUILD/site/bin/ffmpeg" -hide_banner -version | head -1
"$BUILD/site/bin/ffmpeg" -nostdin -v error -f lavfi -i testsrc2=size=1920x1080:rate=30:duration=1 -c:v libx264 \
    -pix_fmt yuv420p "$BUILD/check.mp4"  # the encoder and the filters the check's clips need
cp "$BUILD/site/bin/ffmpeg" "$ENV/bin/ffmpeg"

ls -1 "$ENV/wheels"
size=$(du -sb "$ENV" | cut -f1)
echo "$ENV: $((size / 1024 / 1024)) MiB (the device tool carries 64 MiB with the working tree)"
[ "$size" -lt $((60 * 1024 * 1024)) ] || { echo "gpu_env.sh: $ENV is too large to carry" >&2; exit 1; }
