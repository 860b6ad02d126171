//! Sample view models with zh-CN labels, shared by the PDF tests and the
//! `render_samples` example, plus images drawn in code so no binary files are checked in.

#![allow(dead_code)]

use std::io::Cursor;

use image::{ImageFormat, Rgb, RgbImage, Rgba, RgbaImage};
use jiaxiao_export::pdf::*;

/// Characters that mean something in typst markup or code, and a would-be injection.
pub const HOSTILE: &str = "#import \"@preview/x:0.1.0\" *_$[]\\<a>@ref `raw` 'q' \"qq\" \
    #eval(\"1\") ] ) } // /* {page} 王*小_明 \u{202e}";

pub fn signin_labels() -> SignInLabels {
    SignInLabels {
        title: "家长签到表".into(),
        when: "时间".into(),
        place: "地点".into(),
        class_name: "班级".into(),
        sheet_code: "签到表编号".into(),
        number: "序号".into(),
        parent: "家长姓名".into(),
        child: "学生姓名".into(),
        relation: "关系".into(),
        signature: "签名".into(),
        note: "备注".into(),
        page_of: "第 {page} 页，共 {pages} 页".into(),
    }
}

const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "欧阳",
];
const GIVEN: &[&str] = &[
    "建国", "丽", "伟", "芳", "静", "磊", "洋", "梓涵", "子轩", "一诺",
];

pub fn name(i: usize) -> String {
    format!(
        "{}{}",
        SURNAMES[i % SURNAMES.len()],
        GIVEN[(i / SURNAMES.len()) % GIVEN.len()]
    )
}

pub fn signin(rows: usize) -> SignInSheet {
    SignInSheet {
        school: "西安市碑林区实验小学".into(),
        session_title: "第三讲：如何陪伴孩子度过青春期".into(),
        when: "2025年10月18日（星期六）09:00—10:30".into(),
        place: "学校报告厅".into(),
        class_name: "三年级（2）班".into(),
        sheet_code: "S-7F3K2Q".into(),
        qr_content: String::new(),
        rows: (0..rows)
            .map(|i| SignInRow {
                parent: name(i + 3),
                child: name(i),
                relation: ["父亲", "母亲", "祖母", "外公"][i % 4].into(),
            })
            .collect(),
        blank_rows: 3,
        labels: signin_labels(),
    }
}

pub fn certificate(recipient: &str, number: usize, seal: Option<Vec<u8>>) -> Certificate {
    Certificate {
        title: "荣誉证书".into(),
        recipient: recipient.into(),
        body: vec![
            "在2025—2026学年家长学校学习中表现突出，被评为优秀学员。".into(),
            "特发此证，以资鼓励。".into(),
        ],
        school: "西安市碑林区实验小学家长学校".into(),
        date: "二〇二六年六月三十日".into(),
        number: format!("JX2026-{number:04}"),
        seal,
        labels: CertificateLabels {
            after_recipient: " 家长：".into(),
            number: "证书编号：".into(),
        },
    }
}

pub fn dossier_labels() -> DossierLabels {
    DossierLabels {
        generated: "生成日期：".into(),
        contents: "目录".into(),
        notice: "活动通知".into(),
        lesson_plan: "教案".into(),
        signin: "签到情况".into(),
        photos: "活动照片".into(),
        summary: "活动总结".into(),
        title: "主题".into(),
        form: "形式".into(),
        when: "时间".into(),
        place: "地点".into(),
        instructor: "主讲人".into(),
        instructor_title: "职称".into(),
        instructor_org: "单位".into(),
        audience: "对象".into(),
        topic: "内容提要".into(),
        invited: "应到".into(),
        present: "实到".into(),
        late: "迟到".into(),
        excused: "请假".into(),
        absent: "缺席".into(),
        rate: "到课率".into(),
        attendees: "签到名单".into(),
        attendees_elsewhere:
            "本学年签到超过 5 万人次，签到家长名单不列入本档案，见签到明细（Excel）".into(),
        none: "（无）".into(),
        page_of: "第 {page} 页 / 共 {pages} 页".into(),
    }
}

const PLAN: &str = "一、教学目标：帮助家长了解青春期孩子的心理特点，掌握有效沟通的方法。\n\
    二、教学重点：倾听与共情；设立规则与边界。\n\
    三、教学过程：1. 案例导入（10分钟）；2. 专题讲授（40分钟）；3. 小组讨论（20分钟）；4. 答疑（20分钟）。\n\
    四、课后作业：与孩子进行一次不少于20分钟的谈话，并记录感受。";

const SUMMARY: &str = "本次活动家长参与积极，现场气氛热烈。讲座结合大量真实案例，\
    家长普遍反映内容贴近实际、方法可操作。\n\
    不足之处：部分祖辈家长对线上学习平台不熟悉，下次活动前将安排班主任提前指导。";

pub fn dossier(sessions: usize, attendees: usize, photos: usize) -> Dossier {
    let photo_bytes = [photo_jpeg(0), photo_png(1)];
    Dossier {
        school: "西安市碑林区实验小学".into(),
        school_year: "2025—2026学年".into(),
        title: "家长学校工作台账".into(),
        generated: "2026年7月1日".into(),
        sessions: (0..sessions)
            .map(|s| DossierSession {
                title: format!("第{}讲：如何陪伴孩子度过青春期", s + 1),
                form: "专题讲座".into(),
                when: format!("2025年{}月18日 09:00—10:30", 9 + s % 4),
                place: "学校报告厅".into(),
                instructor: "李红梅".into(),
                instructor_title: "高级教师、国家二级心理咨询师".into(),
                instructor_org: "碑林区家庭教育指导中心".into(),
                audience: "三年级全体学生家长".into(),
                topic: "青春期心理特点；亲子沟通的方法；规则与边界".into(),
                lesson_plan: PLAN.into(),
                attendance: Attendance {
                    invited: attendees as u32 + 12,
                    present: attendees as u32,
                    late: 3,
                    excused: 7,
                    absent: 5,
                    rate: format!(
                        "{:.1}%",
                        100.0 * attendees as f64 / (attendees as f64 + 12.0)
                    ),
                },
                attendees: (0..attendees).map(name).collect(),
                attendees_elsewhere: false,
                photos: (0..photos).map(|p| photo_bytes[p % 2].clone()).collect(),
                summary: SUMMARY.into(),
            })
            .collect(),
        tables: vec![
            DossierTable {
                title: "组织机构".into(),
                note: String::new(),
                headers: vec!["机构".into(), "职务".into(), "姓名".into()],
                rows: vec![vec![
                    "家长学校领导小组".into(),
                    "组长".into(),
                    "张校长".into(),
                ]],
            },
            DossierTable {
                title: "优秀学员".into(),
                note: "公示期：2026-06-01至2026-06-05".into(),
                headers: vec!["家长".into(), "出勤率".into(), "学时".into()],
                rows: (0..30)
                    .map(|i| vec![name(i), "100.0%".into(), "12.5".into()])
                    .collect(),
            },
        ],
        labels: dossier_labels(),
    }
}

pub fn notice() -> ExcellenceNotice {
    ExcellenceNotice {
        school: "西安市碑林区实验小学".into(),
        title: "2025-2026学年家长学校优秀学员评选结果公示".into(),
        intro: vec![
            "经班级推荐、学校审核，拟评选以下家长为2025-2026学年家长学校“优秀学员”，现予以公示。"
                .into(),
        ],
        headers: vec![
            "序号".into(),
            "家长姓名".into(),
            "学生及班级".into(),
            "出勤率".into(),
            "学时".into(),
        ],
        rows: (0..12)
            .map(|i| {
                vec![
                    (i + 1).to_string(),
                    name(i),
                    format!("{}（三年级(2)班）", name(i + 50)),
                    "100.0%".into(),
                    "12.5".into(),
                ]
            })
            .collect(),
        closing: vec![
            "公示期：2026年6月1日至2026年6月5日。".into(),
            "公示期内如有异议，请向学校家长学校办公室反映。".into(),
        ],
        signature: "西安市碑林区实验小学家长学校".into(),
        date: "2026年6月1日".into(),
    }
}

pub fn run_sheet() -> RunSheet {
    RunSheet {
        title: "西安市碑林区实验小学2025年秋季家长会活动安排".into(),
        theme: "家校携手，共育成长".into(),
        when: "2025年11月8日（星期六）08:30—11:30".into(),
        place: "学校报告厅及各班教室".into(),
        participants: "全体学生家长、班主任及任课教师".into(),
        organiser: "学校德育处、家长学校".into(),
        programme: vec![
            ProgrammeItem {
                time: "08:30—08:50".into(),
                item: "家长签到入场".into(),
                speaker: "各班班主任".into(),
            },
            ProgrammeItem {
                time: "08:50—09:20".into(),
                item: "校长致辞：学校发展规划与本学期工作重点".into(),
                speaker: "张校长".into(),
            },
            ProgrammeItem {
                time: "09:20—10:00".into(),
                item: "专题讲座：家庭教育促进法解读".into(),
                speaker: "李红梅（区家庭教育指导中心）".into(),
            },
        ],
        breakouts: (1..=6)
            .map(|c| Breakout {
                class_name: format!("三年级（{c}）班"),
                session_title: "学情分析与家校沟通".into(),
                instructor: name(c),
                place: format!("教学楼{}0{c}室", 2 + c / 4),
            })
            .collect(),
        venue_notes: "请家长将车辆停放在学校东侧停车场。\n报告厅座位按班级划分，请按指引入座。\n\
            活动期间请将手机调至静音。"
            .into(),
        duties: vec![
            Duty {
                person: "王老师".into(),
                duty: "签到引导".into(),
                place: "校门口".into(),
                time: "08:00—09:00".into(),
            },
            Duty {
                person: "赵老师".into(),
                duty: "音响与多媒体".into(),
                place: "报告厅".into(),
                time: "08:00—10:00".into(),
            },
            Duty {
                person: "刘老师".into(),
                duty: "安全巡查".into(),
                place: "教学楼各层".into(),
                time: "08:30—11:30".into(),
            },
        ],
        labels: RunSheetLabels {
            theme: "活动主题".into(),
            when: "活动时间".into(),
            place: "活动地点".into(),
            participants: "参加人员".into(),
            organiser: "组织部门".into(),
            programme: "一、集体活动".into(),
            breakouts: "二、分班活动".into(),
            venue_notes: "三、会场须知".into(),
            duties: "四、工作人员安排".into(),
            time: "时间".into(),
            item: "内容".into(),
            speaker: "主讲人".into(),
            class_name: "班级".into(),
            session_title: "主题".into(),
            instructor: "主讲人".into(),
            person: "姓名".into(),
            duty: "职责".into(),
            page_of: "第 {page} 页，共 {pages} 页".into(),
        },
    }
}

/// A red round seal on a transparent background: a ring and a five-pointed star.
pub fn seal_png() -> Vec<u8> {
    let size = 240u32;
    let c = size as f32 / 2.0;
    let red = Rgba([200, 30, 30, 210]);
    let img = RgbaImage::from_fn(size, size, |x, y| {
        let (dx, dy) = (x as f32 - c, y as f32 - c);
        let r = (dx * dx + dy * dy).sqrt();
        if (c - 12.0..c - 2.0).contains(&r) || in_star(dx / (c * 0.45), dy / (c * 0.45)) {
            red
        } else {
            Rgba([0, 0, 0, 0])
        }
    });
    encode(image::DynamicImage::ImageRgba8(img), ImageFormat::Png)
}

/// Inside the five-pointed star of outer radius 1 centred on the origin, point up.
fn in_star(x: f32, y: f32) -> bool {
    let corners: Vec<(f32, f32)> = (0..10)
        .map(|k| {
            let r = if k % 2 == 0 { 1.0 } else { 0.382 };
            let a = -std::f32::consts::FRAC_PI_2 + k as f32 * std::f32::consts::PI / 5.0;
            (r * a.cos(), r * a.sin())
        })
        .collect();
    // Even-odd ray casting.
    let mut inside = false;
    for i in 0..corners.len() {
        let (x1, y1) = corners[i];
        let (x2, y2) = corners[(i + 1) % corners.len()];
        if (y1 > y) != (y2 > y) && x < x1 + (y - y1) * (x2 - x1) / (y2 - y1) {
            inside = !inside;
        }
    }
    inside
}

fn gradient(w: u32, h: u32, seed: u8) -> RgbImage {
    RgbImage::from_fn(w, h, |x, y| {
        Rgb([
            (x * 255 / w) as u8 ^ seed,
            (y * 255 / h) as u8,
            120u8.wrapping_add(seed),
        ])
    })
}

pub fn photo_png(seed: u8) -> Vec<u8> {
    encode(
        image::DynamicImage::ImageRgb8(gradient(320, 240, seed)),
        ImageFormat::Png,
    )
}

pub fn photo_jpeg(seed: u8) -> Vec<u8> {
    // Portrait, to show that tall photos are scaled into the same box.
    encode(
        image::DynamicImage::ImageRgb8(gradient(240, 320, seed)),
        ImageFormat::Jpeg,
    )
}

fn encode(img: image::DynamicImage, format: ImageFormat) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, format).expect("encode sample image");
    out.into_inner()
}
