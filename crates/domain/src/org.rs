//! The organisation vocabulary of DOMAIN.md §0: kinds of tree node, school types,
//! roles, guardian relations. Each has a stable code stored in the database and used
//! as the key of its translated label (`kind.school`, `role.county_admin`, …).

use serde::{Deserialize, Serialize};

macro_rules! coded_enum {
    ($(#[$m:meta])* $name:ident { $($variant:ident => $code:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            /// `const`, so the store's column constants are spelled from it.
            pub const fn code(self) -> &'static str {
                match self { $($name::$variant => $code),+ }
            }
            pub fn from_code(code: &str) -> Option<Self> {
                match code { $($code => Some($name::$variant),)+ _ => None }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.code())
            }
        }
    };
}
pub(crate) use coded_enum;

coded_enum!(
    /// A node of the organisation tree, top to bottom.
    UnitKind {
        Province => "province",
        City => "city",
        County => "county",
        School => "school",
        Grade => "grade",
        Class => "class",
    }
);

impl UnitKind {
    /// The only kind that may sit directly under this one.
    pub fn child(self) -> Option<UnitKind> {
        match self {
            UnitKind::Province => Some(UnitKind::City),
            UnitKind::City => Some(UnitKind::County),
            UnitKind::County => Some(UnitKind::School),
            UnitKind::School => Some(UnitKind::Grade),
            UnitKind::Grade => Some(UnitKind::Class),
            UnitKind::Class => None,
        }
    }

    pub fn is_office(self) -> bool {
        matches!(self, UnitKind::Province | UnitKind::City | UnitKind::County)
    }
}

coded_enum!(
    /// 学段: what kind of school a school is.
    SchoolType {
        Kindergarten => "kindergarten",
        Primary => "primary",
        Junior => "junior",
        NineYear => "nine_year",
        SeniorHigh => "senior_high",
        Vocational => "vocational",
        Special => "special",
        // 完全中学: junior and senior secondary in one school (初一 to 高三).
        CompleteSecondary => "complete_secondary",
        // 十二年一贯制: primary through senior high (一年级 to 高三).
        TwelveYear => "twelve_year",
    }
);

impl SchoolType {
    /// The grade levels a school of this type has, in the numbering of [`grade_name`].
    pub fn grade_levels(self) -> std::ops::RangeInclusive<i32> {
        match self {
            SchoolType::Kindergarten => -2..=0,
            SchoolType::Primary => 1..=6,
            SchoolType::Junior => 7..=9,
            SchoolType::NineYear => 1..=9,
            SchoolType::SeniorHigh | SchoolType::Vocational => 10..=12,
            SchoolType::Special => 1..=9,
            SchoolType::CompleteSecondary => 7..=12,
            SchoolType::TwelveYear => 1..=12,
        }
    }
}

coded_enum!(
    /// A role is always granted at a node of the tree and holds for its subtree.
    Role {
        ProvinceAdmin => "province_admin",
        CityAdmin => "city_admin",
        CountyAdmin => "county_admin",
        Inspector => "inspector",
        SchoolAdmin => "school_admin",
        HeadTeacher => "head_teacher",
        Teacher => "teacher",
        Parent => "parent",
    }
);

impl Role {
    /// The kind of node this role is granted at; a grant elsewhere is refused.
    pub fn granted_at(self) -> &'static [UnitKind] {
        match self {
            Role::ProvinceAdmin => &[UnitKind::Province],
            Role::CityAdmin => &[UnitKind::City],
            Role::CountyAdmin => &[UnitKind::County],
            Role::Inspector => &[UnitKind::Province, UnitKind::City, UnitKind::County],
            Role::SchoolAdmin | Role::Teacher => &[UnitKind::School],
            Role::HeadTeacher => &[UnitKind::Class],
            Role::Parent => &[],
        }
    }

    /// Admins manage people, rosters and accounts in their subtree; others only read.
    pub fn can_manage(self) -> bool {
        matches!(
            self,
            Role::ProvinceAdmin | Role::CityAdmin | Role::CountyAdmin | Role::SchoolAdmin
        )
    }

    /// Which roles an admin holding `self` may grant to others.
    pub fn may_grant(self, other: Role) -> bool {
        let rank = |r: Role| match r {
            Role::ProvinceAdmin => 4,
            Role::CityAdmin => 3,
            Role::CountyAdmin => 2,
            Role::Inspector => 2,
            Role::SchoolAdmin => 1,
            Role::HeadTeacher | Role::Teacher | Role::Parent => 0,
        };
        self.can_manage() && (rank(other) < rank(self) || other == self)
    }
}

coded_enum!(
    /// 与学生关系.
    Relation {
        Father => "father",
        Mother => "mother",
        Grandfather => "grandfather",
        Grandmother => "grandmother",
        MaternalGrandfather => "maternal_grandfather",
        MaternalGrandmother => "maternal_grandmother",
        Other => "other",
    }
);

impl Relation {
    /// Reads the words Chinese rosters use; anything unrecognised is "other".
    pub fn parse_zh(raw: &str) -> Relation {
        match raw.trim() {
            "父亲" | "父" | "爸爸" | "爸" | "father" | "Father" => Relation::Father,
            "母亲" | "母" | "妈妈" | "妈" | "mother" | "Mother" => Relation::Mother,
            "祖父" | "爷爷" => Relation::Grandfather,
            "祖母" | "奶奶" => Relation::Grandmother,
            "外祖父" | "外公" | "姥爷" => Relation::MaternalGrandfather,
            "外祖母" | "外婆" | "姥姥" => Relation::MaternalGrandmother,
            _ => Relation::Other,
        }
    }
}

coded_enum!(Gender { Male => "m", Female => "f" });

impl Gender {
    pub fn parse_zh(raw: &str) -> Option<Gender> {
        match raw.trim() {
            "男" | "M" | "m" | "male" | "Male" | "1" => Some(Gender::Male),
            "女" | "F" | "f" | "female" | "Female" | "2" => Some(Gender::Female),
            _ => None,
        }
    }
}

const DIGITS: [&str; 10] = ["零", "一", "二", "三", "四", "五", "六", "七", "八", "九"];

/// The name a school gives a grade level: 一年级 … 九年级, 高一 … 高三, 小班/中班/大班.
pub fn grade_name(level: i32) -> String {
    match level {
        -2 => "小班".into(),
        -1 => "中班".into(),
        0 => "大班".into(),
        1..=9 => format!("{}年级", DIGITS[level as usize]),
        10..=12 => format!("高{}", DIGITS[(level - 9) as usize]),
        other => format!("{other}年级"),
    }
}

/// Reads a grade as rosters write it: "三年级", "3年级", "3", "初一", "七年级", "高二", "大班".
pub fn parse_grade(raw: &str) -> Option<i32> {
    let s: String = raw.chars().filter(|c| !c.is_whitespace()).collect();
    let s = s.as_str();
    match s {
        "小班" => return Some(-2),
        "中班" => return Some(-1),
        "大班" => return Some(0),
        _ => {}
    }
    let num = |t: &str| -> Option<i32> {
        if let Ok(n) = t.parse::<i32>() {
            return Some(n);
        }
        let t = t.replace('〇', "零");
        match t.as_str() {
            "十" => Some(10),
            "十一" => Some(11),
            "十二" => Some(12),
            _ => DIGITS.iter().position(|d| *d == t).map(|p| p as i32),
        }
    };
    let level = if let Some(rest) = s.strip_prefix('初') {
        num(rest).map(|n| n + 6)
    } else if let Some(rest) = s.strip_prefix('高') {
        num(rest).map(|n| n + 9)
    } else {
        num(s.strip_suffix("年级").unwrap_or(s))
    }?;
    (1..=12).contains(&level).then_some(level)
}

/// Reads a class as rosters write it: "2班", "(2)班", "（2）班", "2", "三年级2班", "二班".
pub fn parse_class_number(raw: &str) -> Option<i32> {
    let s = raw.trim();
    let s = s.rsplit('级').next().unwrap_or(s);
    let inner: String = s
        .chars()
        .filter(|c| !matches!(c, '(' | ')' | '（' | '）' | '班' | ' '))
        .collect();
    if let Ok(n) = inner.parse::<i32>() {
        return (1..=99).contains(&n).then_some(n);
    }
    let n = match inner.as_str() {
        "十" => 10,
        x => DIGITS.iter().position(|d| *d == x)? as i32,
    };
    (1..=99).contains(&n).then_some(n)
}

pub fn class_name(number: i32) -> String {
    format!("({number})班")
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case("三年级", Some(3))]
    #[case("3年级", Some(3))]
    #[case("3", Some(3))]
    #[case("初一", Some(7))]
    #[case("七年级", Some(7))]
    #[case("高三", Some(12))]
    #[case("大班", Some(0))]
    #[case("十三年级", None)]
    #[case("三年", None)]
    fn grades(#[case] raw: &str, #[case] want: Option<i32>) {
        assert_eq!(parse_grade(raw), want);
    }

    #[rstest]
    #[case("2班", Some(2))]
    #[case("(2)班", Some(2))]
    #[case("（12）班", Some(12))]
    #[case("三年级2班", Some(2))]
    #[case("二班", Some(2))]
    #[case("A班", None)]
    fn classes(#[case] raw: &str, #[case] want: Option<i32>) {
        assert_eq!(parse_class_number(raw), want);
    }

    #[test]
    fn grade_names_round_trip() {
        for level in -2..=12 {
            assert_eq!(parse_grade(&grade_name(level)), Some(level), "{level}");
        }
    }

    #[rstest::rstest]
    #[case(SchoolType::CompleteSecondary, "初一", "高三")]
    #[case(SchoolType::TwelveYear, "一年级", "高三")]
    #[case(SchoolType::NineYear, "一年级", "初三")]
    fn a_school_type_has_its_grades(
        #[case] t: SchoolType,
        #[case] first: &str,
        #[case] last: &str,
    ) {
        let levels = t.grade_levels();
        assert_eq!(parse_grade(first), Some(*levels.start()), "{t}");
        assert_eq!(parse_grade(last), Some(*levels.end()), "{t}");
        assert_eq!(SchoolType::from_code(t.code()), Some(t));
    }

    #[test]
    fn codes_round_trip() {
        for r in Role::ALL {
            assert_eq!(Role::from_code(r.code()), Some(*r));
        }
        for k in UnitKind::ALL {
            assert_eq!(UnitKind::from_code(k.code()), Some(*k));
        }
    }

    #[test]
    fn grants_go_down_only() {
        assert!(Role::CountyAdmin.may_grant(Role::SchoolAdmin));
        assert!(!Role::SchoolAdmin.may_grant(Role::CountyAdmin));
        assert!(!Role::Teacher.may_grant(Role::Teacher));
    }
}
