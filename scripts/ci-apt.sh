#!/bin/sh
# System packages for the microphone tests (tests/test_record.py, marker `mic`):
#   libportaudio2       the PortAudio library sounddevice loads (its Linux wheel does not bundle it)
#   pulseaudio          a private sound server whose null sink's monitor is the test microphone
#   pulseaudio-utils    pactl / pacat / paplay, to set it up and play clips into it
#   libasound2-plugins  ALSA's pulse plugin: how PortAudio reaches PulseAudio (a pulseaudio
#                       dependency today; named so that it stays)
#   chromium            the real browser the web tests drive (tests/test_web_browser.py, marker
#   chromium-driver     `browser`) through Playwright's executable_path; playwright cannot
#                       download browsers offline
#   fonts-noto-cjk      Japanese glyphs for the progress PNG (`progress --plot`; without a CJK font
#                       the chart of Japanese attempts is labelled in English)
# Run as root (CI): scripts/ci-apt.sh
set -eu
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends libportaudio2 pulseaudio pulseaudio-utils libasound2-plugins \
    chromium chromium-driver fonts-noto-cjk
