#!/usr/bin/env bash
# The phone apps from a clean checkout, as far as Linux goes: install the pinned npm packages,
# render the shell, generate both native projects and check them against the configuration.
# Building them needs Xcode/CocoaPods and Gradle/the Android SDK: docs/mobile.md.
set -euo pipefail
cd "$(dirname "$0")"
rm -rf www ios android
npm ci --no-audit --no-fund --loglevel=error
../.venv/bin/flask --app martingale mobile-shell \
  --server-url "${MARTINGALE_SERVER_URL:-https://play.example}" --out www
npx cap add android
# on Linux `cap add ios` writes the Xcode project and its Podfile, and skips `pod install` and
# xcodebuild (warning that CocoaPods is missing): the pods are checked as listed, not installed
npx cap add ios
npx cap sync
node check-native.mjs
