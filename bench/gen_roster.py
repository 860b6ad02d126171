#!/usr/bin/env python3
"""Write a large, realistic roster workbook for the import benchmark.

Usage: bench/.venv/bin/python bench/gen_roster.py OUT.xlsx [ROWS]   (default 100000)

The sheet looks like what a school exports: two title rows above the header
(学号,姓名,性别,年级,班级,家长姓名,与学生关系,联系电话), one row per pupil with one
parent, a note row (注：…) at the bottom. Deterministic (fixed seed):

* ROWS distinct pupils; pupil numbers "2026" + 7 digits, unique, and never equal to
  the demo's numbers (those start with 2025), so every row creates a new pupil;
* realistic Chinese names (common surnames, one or two given characters, a few
  compound surnames), gender 男/女;
* grades 一年级…六年级, classes 1班…20班;
* one parent per row, named after the family, with an 11-digit mobile; about 5% of
  pupils are siblings of an earlier pupil and repeat that parent's name and mobile;
  all other mobiles are distinct and use prefixes the demo data never uses (the demo
  uses 135/136/137/139/150/151/158/186/187/189 and 13800000001).

Needs openpyxl (bench/.venv; see bench/roster_import.sh).
"""

import random
import sys
import time

from openpyxl import Workbook

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏"
    "魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵"
    "万钱严覃武戴莫孔向汤"
)
COMPOUND = ["欧阳", "司马", "诸葛", "上官", "慕容", "令狐"]
BOY = "浩宇轩然博文子俊杰涛明辰睿泽一航晨阳磊鑫昊天逸凯嘉思远铭瑞豪梓煜峻熙彬鹏宸奕翔乐晟霖铄"
GIRL = "欣怡梓涵雨萱诗琪可馨悦佳思语婷雪静晴彤妍瑶琳月颖若蕾玥菲安宁梦露洁雅蓉璐艺沐依楠"
ADULT = [
    "建国", "建华", "卫东", "志强", "海涛", "晓东", "丽华", "秀英", "桂兰", "玉梅", "红霞", "春燕",
    "国强", "永刚", "立新", "亚军", "晓燕", "敏", "静", "伟", "芳", "娜", "军", "勇", "艳", "杰",
    "磊", "丹", "霞", "平", "刚", "辉", "鹏", "慧", "文斌", "志明", "美玲", "淑珍", "德华", "小红",
    "少华", "红梅", "秀兰", "海燕", "俊峰", "晓峰", "春华", "玉兰", "振华", "利民",
]
# Mobile prefixes the demo data never uses.
PREFIXES = [130, 131, 132, 133, 134, 147, 152, 153, 155, 156, 157, 166, 173, 175, 176, 177,
            178, 180, 181, 182, 183, 185, 188, 191, 198, 199]
GRADES = ["一年级", "二年级", "三年级", "四年级", "五年级", "六年级"]
FATHER_SIDE = [("父亲", 70), ("爷爷", 6), ("外公", 2)]
MOTHER_SIDE = [("母亲", 18), ("奶奶", 2), ("外婆", 2)]


def main() -> None:
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    out = sys.argv[1]
    rows = int(sys.argv[2]) if len(sys.argv) > 2 else 100_000
    rng = random.Random(20261130)
    t0 = time.time()

    rel_choices = [r for r, _ in FATHER_SIDE + MOTHER_SIDE]
    rel_weights = [w for _, w in FATHER_SIDE + MOTHER_SIDE]
    father_side = {r for r, _ in FATHER_SIDE}
    used_phones = set()

    def new_phone() -> str:
        while True:
            p = f"{rng.choice(PREFIXES)}{rng.randrange(10**8):08d}"
            if p not in used_phones:
                used_phones.add(p)
                return p

    def surname() -> str:
        return rng.choice(COMPOUND) if rng.random() < 0.01 else rng.choice(SURNAMES)

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("学生名单")
    ws.append(["雁塔区某小学2026-2027学年学生及家长信息表"])
    ws.append(["填报单位：教务处", None, None, None, "填报日期：2026年9月1日"])
    ws.append(["学号", "姓名", "性别", "年级", "班级", "家长姓名", "与学生关系", "联系电话"])

    families = []  # (family surname, parent name, relation, phone) of recent pupils
    siblings = 0
    for i in range(rows):
        student_no = f"2026{i + 1:07d}"
        grade = GRADES[rng.randrange(6)]
        klass = f"{rng.randrange(1, 21)}班"
        boy = rng.random() < 0.52
        if families and rng.random() < 0.05:
            fam, parent, rel, phone = families[rng.randrange(len(families))]
            siblings += 1
        else:
            fam = surname()
            rel = rng.choices(rel_choices, rel_weights)[0]
            parent = (fam if rel in father_side else surname()) + rng.choice(ADULT)
            phone = new_phone()
            families.append((fam, parent, rel, phone))
            if len(families) > 200:
                families.pop(0)
        pool = BOY if boy else GIRL
        given = rng.choice(pool) + (rng.choice(pool) if rng.random() < 0.75 else "")
        ws.append([student_no, fam + given, "男" if boy else "女", grade, klass, parent, rel, phone])

    ws.append([])
    ws.append(["注：本表由各班班主任填写，联系电话请填写家长本人手机号码。"])
    wb.save(out)
    print(
        f"{out}: {rows} pupils, {siblings} siblings sharing a parent, "
        f"{len(used_phones)} distinct parent mobiles, {time.time() - t0:.1f} s",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
