//! Plausible Chinese personal names, mobile numbers, resident identity card numbers and place names.
//!
//! Everything is drawn from fixed tables with the seed's own [`Rng`], so a name depends only on the stream it
//! was drawn from. The tables are ordinary, common characters; no real person's data is involved.

use std::collections::HashSet;

use chrono::{Datelike, NaiveDate};
use entities::common::Gender;

use super::rng::Rng;

/// Common surnames, most frequent first; the weight of each is derived from its rank so that 王/李/张 dominate
/// the way they do in real registers.
const SURNAMES: [&str; 100] = [
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "周", "吴", "徐", "孙", "朱", "胡", "林", "何", "郭",
    "马", "罗", "梁", "宋", "郑", "谢", "韩", "唐", "冯", "于", "董", "萧", "程", "曹", "袁", "邓", "许",
    "傅", "沈", "曾", "彭", "吕", "苏", "卢", "蒋", "蔡", "贾", "丁", "魏", "薛", "叶", "阎", "余", "潘",
    "杜", "戴", "夏", "钟", "汪", "田", "任", "姜", "范", "方", "石", "姚", "谭", "廖", "邹", "熊", "金",
    "陆", "郝", "孔", "白", "崔", "康", "毛", "邱", "秦", "江", "史", "顾", "侯", "邵", "孟", "龙", "万",
    "段", "雷", "钱", "汤", "尹", "黎", "易", "常", "武", "乔", "贺", "赖", "龚", "文", "应",
];

/// Given-name characters for men, as fashions went: (born before ~1980, born later).
const MALE_CHARS: (&[&str], &[&str]) = (
    &[
        "伟", "强", "磊", "军", "勇", "杰", "涛", "斌", "超", "明", "刚", "平", "辉", "鹏", "华", "飞", "波",
        "宁", "健", "峰", "海", "建", "国", "东", "志", "永", "林", "成", "龙", "江", "兵", "亮", "新", "栋",
        "坤", "荣", "忠", "德", "贤", "彬",
    ],
    &[
        "浩", "凯", "俊", "帆", "旭", "宇", "晨", "阳", "哲", "豪", "轩", "睿", "博", "航", "昊", "然", "泽",
        "铭", "鑫", "楠", "杰", "磊", "涛", "鹏",
    ],
);

/// Given-name characters for women: (born before ~1980, born later).
const FEMALE_CHARS: (&[&str], &[&str]) = (
    &[
        "芳", "娜", "敏", "静", "丽", "艳", "娟", "霞", "秀", "玲", "燕", "萍", "红", "梅", "莉", "兰", "琴",
        "云", "菊", "英", "凤", "珍", "君", "华", "素", "娣",
    ],
    &[
        "婷", "雪", "琳", "慧", "颖", "倩", "洁", "莹", "欣", "怡", "佳", "悦", "晶", "丹", "璐", "雯", "薇",
        "婧", "蕾", "露", "瑶", "彤", "萱", "涵", "妍", "蓉", "琪", "诗",
    ],
);

/// First characters of two-character given names that suit either sex: (older, newer).
const LEADING_CHARS: (&[&str], &[&str]) = (
    &[
        "建", "国", "海", "春", "秋", "丽", "美", "亚", "立", "永", "金", "玉", "素", "利", "振", "家", "少",
        "伟", "红", "小", "明", "宏", "志", "秀", "桂", "爱",
    ],
    &[
        "晓", "文", "佳", "子", "雨", "思", "一", "可", "嘉", "梓", "欣", "天", "安", "心", "俊", "雅", "诗",
        "若", "宇", "浩",
    ],
);

/// Chinese mobile prefixes of the three carriers.
const MOBILE_PREFIXES: &[&str] = &[
    "130", "131", "132", "133", "134", "135", "136", "137", "138", "139", "150", "151", "152", "153", "155",
    "156", "157", "158", "159", "166", "173", "175", "176", "177", "178", "180", "181", "182", "183", "184",
    "185", "186", "187", "188", "189", "191", "198", "199",
];

/// Syllables for the first character of an invented place name (community, village, road).
const PLACE_FIRST: &[&str] = &[
    "香", "金", "银", "青", "白", "东", "西", "南", "北", "新", "长", "大", "小", "双", "马", "龙", "凤",
    "桃", "兰", "竹", "梅", "柳", "茶", "盐", "岑", "城", "海", "潮", "渔", "鹤", "石", "沙", "黄", "紫",
    "福", "和", "平", "安", "宁", "兴", "永", "丰", "乐", "泰", "盛", "文", "昌", "环", "滨", "港", "洋",
    "礁", "岛", "螺", "蟹", "鲍", "樟", "松", "桂", "芦", "花", "里", "前", "后", "上", "下", "中", "清",
    "碧", "翠", "晓", "峰",
];

/// Syllables for the second character of an invented place name; 岙/礁/涂/浦 are typical of the islands.
const PLACE_SECOND: &[&str] = &[
    "园", "岙", "湾", "浦", "塘", "山", "岭", "港", "桥", "河", "门", "头", "岸", "里", "庄", "峰", "涂",
    "礁", "洋", "家", "基", "弄", "坑", "林", "场", "阳", "华", "溪", "澳", "嘴", "岗", "墩", "亭", "苑",
    "丰", "安", "泉", "江", "屿", "滩",
];

/// Road suffixes for addresses.
const ROAD_SUFFIXES: &[(&str, u32)] = &[("路", 6), ("街", 2), ("弄", 1), ("巷", 1)];

/// A surname, more common ones more often (weight falls off with rank like a Zipf law).
pub fn surname(rng: &mut Rng) -> &'static str {
    // Weights 1/(rank+8), scaled to integers once per call: cheap enough for ~100k names.
    let total: u64 = (0..SURNAMES.len() as u64).map(|r| 100_000 / (r + 8)).sum();
    let mut roll = rng.below(total);
    for (rank, name) in SURNAMES.iter().enumerate() {
        let w = 100_000 / (rank as u64 + 8);
        if roll < w {
            return name;
        }
        roll -= w;
    }
    SURNAMES[0]
}

/// A given name of one or two characters, in the fashion of the birth year: single-character names and
/// 建国/秀英-style characters for the older, 子轩/梓涵-style for the young.
pub fn given_name(rng: &mut Rng, gender: Gender, birth_year: i32) -> String {
    let modern_share = (f64::from(birth_year - 1960) / 40.0).clamp(0.05, 0.95);
    let era = |(old, new): (&'static [&'static str], &'static [&'static str]), rng: &mut Rng| {
        if rng.chance(modern_share) { new } else { old }
    };
    let own = match gender {
        Gender::Male => MALE_CHARS,
        Gender::Female => FEMALE_CHARS,
    };
    let single_share = if birth_year < 1970 { 0.45 } else { 0.25 };
    if rng.chance(single_share) {
        let pool = era(own, rng);
        (*rng.pick(pool)).to_owned()
    } else {
        let leading = if rng.chance(0.5) { LEADING_CHARS } else { own };
        let pool = era(leading, rng);
        let first = *rng.pick(pool);
        let pool = era(own, rng);
        let mut second = *rng.pick(pool);
        if second == first {
            second = *rng.pick(pool);
        }
        format!("{first}{second}")
    }
}

/// A full name: surname plus given name.
pub fn person_name(rng: &mut Rng, gender: Gender, birth_year: i32) -> String {
    let family = surname(rng);
    format!("{family}{}", given_name(rng, gender, birth_year))
}

/// A random sex, female with probability `female_share`.
pub fn gender(rng: &mut Rng, female_share: f64) -> Gender {
    if rng.chance(female_share) { Gender::Female } else { Gender::Male }
}

/// An 11-digit mainland mobile number (1[3-9]x followed by eight digits).
pub fn mobile(rng: &mut Rng) -> String {
    let prefix = rng.pick(MOBILE_PREFIXES);
    format!("{prefix}{:08}", rng.below(100_000_000))
}

/// The identity card number of a person born on `birth` and registered in the county `region6`; the 17th digit
/// is odd for men and even for women, as the standard prescribes.
pub fn id_number(region6: &str, birth: NaiveDate, sequence: u32, gender: Gender) -> String {
    let order = sequence % 100;
    let sex_digit = match gender {
        Gender::Male => (sequence / 100 % 5) * 2 + 1,
        Gender::Female => (sequence / 100 % 5) * 2,
    };
    let body =
        format!("{region6}{:04}{:02}{:02}{order:02}{sex_digit}", birth.year(), birth.month(), birth.day());
    // The body is all ASCII digits by construction, so a check character always exists.
    let check = crate::validate::id_check_char(&body).unwrap_or('0');
    format!("{body}{check}")
}

/// Hands out identity card numbers that are unique across all generated people: a real person has one number,
/// and a query that joins volunteers and care subjects by number should not find false twins.
#[derive(Debug, Default)]
pub struct IdNumbers {
    used: HashSet<String>,
}

impl IdNumbers {
    pub fn new() -> Self {
        Self::default()
    }

    /// A fresh number for this person; the sequence part is redrawn on the (rare) collision.
    pub fn issue(&mut self, rng: &mut Rng, region6: &str, birth: NaiveDate, gender: Gender) -> String {
        loop {
            let candidate = id_number(region6, birth, rng.below(1_000) as u32, gender);
            if self.used.insert(candidate.clone()) {
                return candidate;
            }
        }
    }
}

/// A two-character invented place name such as 香园 or 螺岙.
pub fn place_name(rng: &mut Rng) -> String {
    let first = rng.pick(PLACE_FIRST);
    let mut second = rng.pick(PLACE_SECOND);
    if second == first {
        second = rng.pick(PLACE_SECOND);
    }
    format!("{first}{second}")
}

/// A road name such as 环城北路 or 海滨街.
pub fn road_name(rng: &mut Rng) -> String {
    let base = place_name(rng);
    let direction = if rng.chance(0.25) { *rng.pick(&["东", "西", "南", "北", "中"]) } else { "" };
    let suffix = rng.weighted(ROAD_SUFFIXES);
    format!("{base}{direction}{suffix}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validate::id_number_is_valid;

    #[test]
    fn check_digits_of_published_examples() {
        // The worked example of GB 11643-1999 and another widely quoted valid number.
        assert!(id_number_is_valid("11010519491231002X"));
        assert!(id_number_is_valid("440524188001010014"));
        assert!(!id_number_is_valid("110105194912310021"));
        assert!(!id_number_is_valid("11010519491331002X"));
    }

    #[test]
    fn generated_id_numbers_are_valid_and_encode_birth_and_sex() {
        let mut rng = Rng::new(1);
        let mut ids = IdNumbers::new();
        for i in 0..2_000 {
            let birth = NaiveDate::from_ymd_opt(1950 + (i % 60), 1 + (i % 12) as u32, 1 + (i % 28) as u32)
                .unwrap_or_default();
            let g = if i % 2 == 0 { Gender::Male } else { Gender::Female };
            let id = ids.issue(&mut rng, "330902", birth, g);
            assert!(id_number_is_valid(&id), "{id}");
            assert!(id.starts_with("3309"));
            assert_eq!(&id[6..14], birth.format("%Y%m%d").to_string());
            let sex_digit = id.as_bytes()[16] - b'0';
            assert_eq!(sex_digit % 2 == 1, g == Gender::Male, "{id}");
        }
    }

    #[test]
    fn names_are_deterministic_and_chinese() {
        let draw = |seed| {
            let mut rng = Rng::stream(seed, "names", 0);
            (0..50)
                .map(|i| person_name(&mut rng, if i % 2 == 0 { Gender::Male } else { Gender::Female }, 1980))
                .collect::<Vec<_>>()
        };
        let a = draw(5);
        assert_eq!(a, draw(5));
        assert_ne!(a, draw(6));
        for name in &a {
            let n = name.chars().count();
            assert!((2..=3).contains(&n), "{name}");
            assert!(name.chars().all(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)), "{name}");
        }
    }

    #[test]
    fn mobiles_have_eleven_digits() {
        let mut rng = Rng::new(9);
        for _ in 0..1_000 {
            let m = mobile(&mut rng);
            assert_eq!(m.len(), 11);
            assert!(m.starts_with('1'));
            assert!((b'3'..=b'9').contains(&m.as_bytes()[1]));
            assert!(m.bytes().all(|b| b.is_ascii_digit()));
        }
    }
}
