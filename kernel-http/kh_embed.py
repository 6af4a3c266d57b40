#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Embeds a page as `static const char NAME[]` (NUL-terminated, so
sizeof(NAME) - 1 is its length) in a generated C header.

Usage: kh_embed.py SRC DST NAME
"""
import sys

src, dst, name = sys.argv[1:4]
data = open(src, 'rb').read()
if b'\0' in data:
    sys.exit(f'{src}: a page holds no NUL byte')
with open(dst, 'w') as f:
    f.write(f'/* Generated from {src.split("/")[-1]} by kernel-http/kh_embed.py. Do not edit. */\n')
    f.write(f'static const char {name}[] = {{\n')
    for i in range(0, len(data), 16):
        f.write('\t' + ''.join(f'0x{b:02x}, ' for b in data[i:i + 16]) + '\n')
    f.write('\t0x00\n};\n')
