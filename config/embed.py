#!/usr/bin/env python3
"""Embeds a text file as `const char cfg_default_yaml[]` in a C source."""
import sys

src, dst = sys.argv[1], sys.argv[2]
data = open(src, 'rb').read()
with open(dst, 'w') as f:
    f.write('/* Generated from %s by config/embed.py. Do not edit. */\n' % src.split('/')[-1])
    f.write('#include <stddef.h>\n#include "cfg.h"\n\n')
    f.write('const char cfg_default_yaml[] = {\n')
    for i in range(0, len(data), 16):
        f.write('\t' + ''.join('0x%02x, ' % b for b in data[i:i + 16]) + '\n')
    f.write('\t0x00\n};\n')
    f.write('const size_t cfg_default_yaml_len = %d;\n' % len(data))
