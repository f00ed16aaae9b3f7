"""Code the tests share (conftest.py files hold only fixtures): ``videos`` makes test videos, ``browser`` drives Chromium, ``decoding`` hangs a decoder."""
