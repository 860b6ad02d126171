#!/usr/bin/env python3
"""A roster CSV of about SIZE_MB megabytes within the reading limits (100,000 rows):
the usual columns plus a long 备注 (notes) column, UTF-8. Generated, never real people.

    python3 bench/gen_wide_csv.py out.csv 50
"""
import random
import sys

out, size_mb = sys.argv[1], float(sys.argv[2])
rows = 100_000 - 1
target = int(size_mb * 1024 * 1024)
rng = random.Random(9)
surnames = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
given = "小明红华伟芳娜敏静丽强磊军洋勇艳杰娟涛超秀霞平刚"
header = "学号,姓名,性别,年级,班级,家长姓名,与学生关系,联系电话,备注\n"
per_row = target // rows
with open(out, "w", encoding="utf-8", newline="") as f:
    f.write(header)
    for i in range(rows):
        s = rng.choice(surnames)
        line = (
            f"B{i:06d},{s}{rng.choice(given)}{rng.choice(given)},{rng.choice('男女')},"
            f"{rng.randint(1, 6)}年级,{rng.randint(1, 12)}班,{s}{rng.choice(given)},父亲,"
            f"139{i:08d},"
        )
        pad = max(0, per_row - len(line.encode()) - 1)
        # Three bytes per character in UTF-8.
        f.write(line + "备" * (pad // 3) + "\n")
