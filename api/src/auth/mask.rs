//! Masked renderings of personal data, for callers whose grant stops below the field's class.
//! Each keeps just enough to tell records apart on screen and never enough to identify a person.

/// 张三 → 张*, 欧阳娜娜 → 欧***: the first character, one star per remaining character.
pub fn name(value: &str) -> String {
    let mut chars = value.chars();
    match chars.next() {
        Some(first) => std::iter::once(first).chain(chars.map(|_| '*')).collect(),
        None => String::new(),
    }
}

/// 13812345678 → 138****5678; shorter numbers keep only their last two digits.
pub fn phone(value: &str) -> String {
    let chars: Vec<char> = value.chars().collect();
    if chars.len() >= 11 {
        let keep_tail = chars.len() - 4;
        chars.iter().enumerate().map(|(i, c)| if i < 3 || i >= keep_tail { *c } else { '*' }).collect()
    } else {
        let keep_tail = chars.len().saturating_sub(2);
        chars.iter().enumerate().map(|(i, c)| if i >= keep_tail { *c } else { '*' }).collect()
    }
}

/// 330902199001011234 → 330902********1234: the issuing region and the last four characters.
pub fn id_number(value: &str) -> String {
    let chars: Vec<char> = value.chars().collect();
    if chars.len() < 12 {
        return "*".repeat(chars.len());
    }
    let keep_tail = chars.len() - 4;
    chars.iter().enumerate().map(|(i, c)| if i < 6 || i >= keep_tail { *c } else { '*' }).collect()
}

/// 舟山市定海区昌国街道香园路12号 → 舟山市定海区****: the city and district only.
pub fn address(value: &str) -> String {
    let prefix: String = value.chars().take(6).collect();
    format!("{prefix}****")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(name("张三"), "张*");
        assert_eq!(name("欧阳娜娜"), "欧***");
        assert_eq!(name(""), "");
    }

    #[test]
    fn phones() {
        assert_eq!(phone("13812345678"), "138****5678");
        assert_eq!(phone("0580-2021"), "*******21");
    }

    #[test]
    fn id_numbers() {
        assert_eq!(id_number("33090219900101123X"), "330902********123X");
        assert_eq!(id_number("12345"), "*****");
    }

    #[test]
    fn addresses() {
        assert_eq!(address("舟山市定海区昌国街道香园路12号"), "舟山市定海区****");
    }
}
