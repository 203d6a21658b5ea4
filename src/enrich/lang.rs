//! Language identification for short posts: ISO 639-1 code or `"und"`.
//!
//! Fast path (no allocation): one pass over the text that skips @-mentions, URLs, hashtags,
//! digits and emoji, counts letters per script, and for Latin script votes with short
//! stop-word lists of en/es/fr/de/pt/it/nl. Scripts used by one main language decide at once
//! (Hangul -> ko, kana -> ja, Greek -> el, ...); Arabic and Cyrillic look at the letters
//! specific to Persian/Urdu and Ukrainian/Serbian/Belarusian/Macedonian. Only texts the fast
//! path cannot settle go to `whatlang` (trigrams), and only when it calls itself reliable.
//! Short or content-free texts ("lol ok", "👍", "@user") give `"und"` rather than a guess.
use ahash::AHashMap;
use std::sync::OnceLock;

/// Fewer letters than this (after dropping mentions, URLs, hashtags): `"und"`.
const MIN_LETTERS: u32 = 8;
/// Fewer letters than this go to whatlang only if the stop-word vote said nothing.
const MIN_LETTERS_WHATLANG: u32 = 20;

const EN: u8 = 1;
const ES: u8 = 1 << 1;
const FR: u8 = 1 << 2;
const DE: u8 = 1 << 3;
const PT: u8 = 1 << 4;
const IT: u8 = 1 << 5;
const NL: u8 = 1 << 6;
const VOTE_LANGS: [(u8, &str); 7] = [
    (EN, "en"),
    (ES, "es"),
    (FR, "fr"),
    (DE, "de"),
    (PT, "pt"),
    (IT, "it"),
    (NL, "nl"),
];

const STOP_WORDS: &[(u8, &str)] = &[
    (EN, "the and is are was were you your my i'm it it's this that with for of to have has had \
          not don't can't didn't doesn't won't isn't i've i'll what why how just be been but they we at from \
          will would get got please thanks thank today about all an do or if when there their our us he she \
          his her him them who can could should than then out up very really still yes one more \
          after before because been being both did does doing down during each few first going good great \
          here how's into know last let's like make many most much never new next now off only other over \
          own people right said same say see some such take tell these they're think those through time \
          tomorrow tonight too under until want way well what's where which while with without year years \
          day days night week best better happy love back ever every free game go gonna got need news show \
          watch watching world life live look looking may might must shall since something thing things \
          trying want wants wish work working yet you're you'll he's she's that's there's im dont cant \
          doesnt didnt thats whats wont"),
    (EN | IT | NL | DE, "in"),
    (EN | FR, "on"),
    // English homographs of other languages' stop words: shared votes.
    (EN, "also am war me no so son die have over"),
    (ES, "el la los las de que en un una es por para con no se mi lo del al pero muy más mas está esta \
          estoy como qué gracias hola yo ya nadie nada tengo hay su sus le les fue ser son todo hoy también \
          cuando porque sin sí bien eso este me te nos tu usted ustedes era sido hace"),
    (FR, "le la les de des du et est un une en que qui pour pas ne je il elle nous vous sur au aux avec ce \
          cette mon ma mes c'est j'ai n'est merci bonjour très tout mais ou plus dans son sa ses été suis \
          jamais rien toujours aussi me te se on ça ai avez sont fait"),
    (DE, "der die das und ist nicht ich ein eine einen zu mit den dem von auf für es sie wir du mein meine \
          noch auch aber bei sind war wie was immer kein keine danke bitte heute schon nur sehr mir mich \
          dass oder wenn hat habe haben wird im am um ihr ihre uns euch seit"),
    (PT, "os de do da dos das é que não nao um uma em no na nos para com por se meu minha mais \
          mas muito está estou foi tem obrigado obrigada você voce vc isso esse essa ainda nunca já também \
          ao pelo pela sem ser são me te eu ele ela"),
    (IT, "il lo la gli le di del della che è un una non per con sono mi ma come più anche questo \
          questa ho ha hanno grazie ciao molto tutto nel nella al alla dei delle sempre ancora mai niente \
          nessuno oggi perché cosa stato se ti ci io"),
    (NL, "de het een en van is niet ik je dat die op te met voor zijn er maar om ook als nog wel geen naar \
          bij mijn heb hebben wordt werd dit al dan kan jullie bedankt dank nooit altijd niemand steeds \
          heel wat hoe waarom me mij we wij"),
];

fn stop_words() -> &'static AHashMap<&'static [u8], u8> {
    static MAP: OnceLock<AHashMap<&'static [u8], u8>> = OnceLock::new();
    MAP.get_or_init(|| {
        let mut m: AHashMap<&'static [u8], u8> = AHashMap::new();
        for &(mask, words) in STOP_WORDS {
            for w in words.split_whitespace() {
                *m.entry(w.as_bytes()).or_default() |= mask;
            }
        }
        m
    })
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Script {
    Latin,
    Cyrillic,
    Greek,
    Arabic,
    Hebrew,
    Devanagari,
    Bengali,
    Gurmukhi,
    Gujarati,
    Tamil,
    Telugu,
    Kannada,
    Malayalam,
    Sinhala,
    Thai,
    Lao,
    Myanmar,
    Khmer,
    Georgian,
    Armenian,
    Ethiopic,
    Hangul,
    Kana,
    Han,
}
const N_SCRIPTS: usize = 24;

fn script_of(c: char) -> Option<Script> {
    use Script::*;
    let u = c as u32;
    Some(match u {
        0x00C0..=0x024F | 0x1E00..=0x1EFF if c.is_alphabetic() => Latin,
        0x0370..=0x03FF | 0x1F00..=0x1FFF => Greek,
        0x0400..=0x052F => Cyrillic,
        0x0531..=0x058F => Armenian,
        0x0590..=0x05FF => Hebrew,
        0x0600..=0x06FF | 0x0750..=0x077F | 0xFB50..=0xFDFF | 0xFE70..=0xFEFF => Arabic,
        0x0900..=0x097F => Devanagari,
        0x0980..=0x09FF => Bengali,
        0x0A00..=0x0A7F => Gurmukhi,
        0x0A80..=0x0AFF => Gujarati,
        0x0B80..=0x0BFF => Tamil,
        0x0C00..=0x0C7F => Telugu,
        0x0C80..=0x0CFF => Kannada,
        0x0D00..=0x0D7F => Malayalam,
        0x0D80..=0x0DFF => Sinhala,
        0x0E00..=0x0E7F => Thai,
        0x0E80..=0x0EFF => Lao,
        0x1000..=0x109F => Myanmar,
        0x10A0..=0x10FF => Georgian,
        0x1200..=0x139F => Ethiopic,
        0x1780..=0x17FF => Khmer,
        0x1100..=0x11FF | 0x3130..=0x318F | 0xAC00..=0xD7AF => Hangul,
        0x3040..=0x30FF | 0x31F0..=0x31FF | 0xFF66..=0xFF9D => Kana,
        0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0x20000..=0x2FA1F => Han,
        _ => return None,
    })
}

/// Letters that single out one language within its script.
#[derive(Default)]
struct Marks {
    persian: u32,
    urdu: u32,
    ukrainian: u32,
    belarusian: u32,
    serbian: u32,
    macedonian: u32,
    russian: u32,
    bulgarian_hint: u32,
}

impl Marks {
    fn see(&mut self, c: char) {
        match c {
            'پ' | 'چ' | 'ژ' | 'گ' | 'ک' | 'ی' => self.persian += 1,
            'ٹ' | 'ڈ' | 'ڑ' | 'ں' | 'ے' | 'ھ' => self.urdu += 1,
            'і' | 'ї' | 'є' | 'ґ' | 'І' | 'Ї' | 'Є' | 'Ґ' => self.ukrainian += 1,
            'ў' | 'Ў' => self.belarusian += 1,
            'ђ' | 'ј' | 'љ' | 'њ' | 'ћ' | 'џ' | 'Ђ' | 'Ј' | 'Љ' | 'Њ' | 'Ћ' | 'Џ' => {
                self.serbian += 1
            }
            'ѓ' | 'ќ' | 'ѕ' | 'Ѓ' | 'Ќ' | 'Ѕ' => self.macedonian += 1,
            'ы' | 'э' | 'ё' | 'Ы' | 'Э' | 'Ё' => self.russian += 1,
            'ъ' | 'Ъ' => self.bulgarian_hint += 1,
            _ => {}
        }
    }
}

/// The language of a post, as an ISO 639-1 code, or `"und"` when it cannot be told.
pub fn detect(text: &str) -> &'static str {
    let b = text.as_bytes();
    let n = b.len();
    let stops = stop_words();
    let mut scripts = [0u32; N_SCRIPTS];
    let mut marks = Marks::default();
    let mut votes = [0f32; 7];
    let mut hits = 0u32;
    let mut latin_words = 0u32;
    let mut non_ascii_latin = false;
    let mut word = [0u8; 24];
    let mut i = 0;
    while i < n {
        let c = b[i];
        // Skip @mentions, #hashtags and URLs: they are names, not language.
        if (c == b'@' || c == b'#') && (i == 0 || !b[i - 1].is_ascii_alphanumeric()) {
            i += 1;
            while i < n
                && (b[i].is_ascii_alphanumeric()
                    || b[i] == b'_'
                    || b[i] >= 0x80 && !is_space_at(b, i))
            {
                i += 1;
            }
            continue;
        }
        if (c == b'h' || c == b'w' || c == b'H' || c == b'W')
            && (i == 0 || b[i - 1].is_ascii_whitespace())
            && is_url(&b[i..])
        {
            while i < n && !b[i].is_ascii_whitespace() {
                i += 1;
            }
            continue;
        }
        if c < 0x80 && !c.is_ascii_alphabetic() {
            i += 1;
            continue;
        }
        // A word: letters (any script), apostrophes inside.
        let start = i;
        let mut wl = 0usize;
        let mut latin_word = true;
        while i < n {
            let c = b[i];
            if c < 0x80 {
                if c.is_ascii_alphabetic() {
                    scripts[Script::Latin as usize] += 1;
                    if wl < word.len() {
                        word[wl] = c.to_ascii_lowercase();
                    }
                    wl += 1;
                    i += 1;
                    continue;
                }
                if (c == b'\'' || c == b'`')
                    && i > start
                    && i + 1 < n
                    && b[i + 1].is_ascii_alphabetic()
                {
                    if wl < word.len() {
                        word[wl] = b'\'';
                    }
                    wl += 1;
                    i += 1;
                    continue;
                }
                break;
            }
            let (ch, len) = decode(b, i);
            let Some(s) = script_of(ch) else {
                if ch == '\u{2019}' && i > start && i + len < n && b[i + len].is_ascii_alphabetic()
                {
                    if wl < word.len() {
                        word[wl] = b'\'';
                    }
                    wl += 1;
                    i += len;
                    continue;
                }
                if ch.is_alphabetic() {
                    // A script we do not classify: part of the word, no vote.
                    latin_word = false;
                    i += len;
                    continue;
                }
                break;
            };
            scripts[s as usize] += 1;
            marks.see(ch);
            if s == Script::Latin {
                non_ascii_latin = true;
                let mut tmp = [0u8; 4];
                for lc in ch.to_lowercase() {
                    for &x in lc.encode_utf8(&mut tmp).as_bytes() {
                        if wl < word.len() {
                            word[wl] = x;
                        }
                        wl += 1;
                    }
                }
            } else {
                latin_word = false;
            }
            i += len;
        }
        if i == start {
            // Not a letter (emoji, punctuation, digits in other scripts).
            i += utf8_len(b[i]);
            continue;
        }
        if latin_word {
            latin_words += 1;
            if wl <= word.len() {
                if let Some(&mask) = stops.get(&word[..wl]) {
                    // A word of one language counts 1; one shared by k languages 1/k each.
                    hits += 1;
                    let w = 1.0 / mask.count_ones() as f32;
                    for (k, (bit, _)) in VOTE_LANGS.iter().enumerate() {
                        if mask & bit != 0 {
                            votes[k] += w;
                        }
                    }
                }
            }
        }
    }
    let latin = Latin {
        votes,
        hits,
        words: latin_words,
        non_ascii: non_ascii_latin,
    };
    decide(text, &scripts, &marks, &latin)
}

struct Latin {
    votes: [f32; 7],
    hits: u32,
    words: u32,
    non_ascii: bool,
}

fn decide(text: &str, scripts: &[u32; N_SCRIPTS], marks: &Marks, lat: &Latin) -> &'static str {
    use Script::*;
    let total: u32 = scripts.iter().sum();
    let get = |s: Script| scripts[s as usize];
    // Japanese mixes kana and kanji; any real share of kana says ja.
    let cjk = get(Han) + get(Kana);
    if get(Kana) >= 2 && get(Kana) * 10 >= cjk && cjk * 2 >= total {
        return "ja";
    }
    // Latin brand names and links are common in posts of other scripts: a non-Latin script
    // with 30% of the letters wins over a Latin majority.
    let (other, &other_count) = scripts
        .iter()
        .enumerate()
        .skip(1)
        .max_by_key(|(_, c)| **c)
        .expect("non-empty");
    let (best, count) = if other_count * 10 >= total * 3 && other_count > 0 {
        (other, other_count)
    } else {
        (Latin as usize, get(Latin))
    };
    let min = match best {
        b if b == Han as usize || b == Hangul as usize || b == Kana as usize => 2,
        b if b == Latin as usize => MIN_LETTERS,
        _ => 4,
    };
    if count < min {
        return "und";
    }
    const ORDER: [Script; N_SCRIPTS] = [
        Latin, Cyrillic, Greek, Arabic, Hebrew, Devanagari, Bengali, Gurmukhi, Gujarati, Tamil,
        Telugu, Kannada, Malayalam, Sinhala, Thai, Lao, Myanmar, Khmer, Georgian, Armenian,
        Ethiopic, Hangul, Kana, Han,
    ];
    match ORDER[best] {
        Latin => latin(text, count, lat),
        Cyrillic => {
            if marks.ukrainian > 0 {
                "uk"
            } else if marks.belarusian > 0 {
                "be"
            } else if marks.macedonian > 0 {
                "mk"
            } else if marks.serbian > 0 {
                "sr"
            } else if marks.russian > 0 || marks.bulgarian_hint == 0 {
                "ru"
            } else {
                whatlang_code(text)
                    .filter(|c| ["ru", "bg", "uk", "be", "mk", "sr"].contains(c))
                    .unwrap_or("ru")
            }
        }
        Arabic => {
            if marks.urdu > 0 {
                "ur"
            } else if marks.persian > 0 {
                "fa"
            } else {
                "ar"
            }
        }
        Greek => "el",
        Hebrew => "he",
        Devanagari => "hi",
        Bengali => "bn",
        Gurmukhi => "pa",
        Gujarati => "gu",
        Tamil => "ta",
        Telugu => "te",
        Kannada => "kn",
        Malayalam => "ml",
        Sinhala => "si",
        Thai => "th",
        Lao => "lo",
        Myanmar => "my",
        Khmer => "km",
        Georgian => "ka",
        Armenian => "hy",
        Ethiopic => "am",
        Hangul => "ko",
        Kana => "ja",
        Han => "zh",
    }
}

fn latin(text: &str, letters: u32, lat: &Latin) -> &'static str {
    let v = &lat.votes;
    let mut order: [usize; 7] = [0, 1, 2, 3, 4, 5, 6];
    order.sort_by(|a, b| v[*b].total_cmp(&v[*a]));
    let (best, second) = (v[order[0]], v[order[1]]);
    let code = VOTE_LANGS[order[0]].1;
    // Clearly ahead on two or more words.
    if best >= 2.0 && best >= 2.0 * second {
        return code;
    }
    // One language only, and its words are a fair share of the text.
    if best >= 1.0 && second == 0.0 && lat.hits >= 2 && lat.hits * 4 >= lat.words {
        return code;
    }
    // Few or conflicting stop words: trigrams (whatlang, ~60 us per tweet) if the text has
    // letters beyond ASCII (likely not English), or no stop word at all and is long enough
    // for trigrams to be reliable. Short ASCII headlines of names end as "und" instead.
    if letters >= MIN_LETTERS_WHATLANG && (lat.non_ascii || lat.hits == 0 && letters >= 40) {
        if let Some(code) = whatlang_code(text) {
            return code;
        }
    }
    if best >= 1.0 && best > 1.5 * second {
        return code;
    }
    "und"
}

/// whatlang on the text without mentions, hashtags and URLs; `None` unless reliable.
fn whatlang_code(text: &str) -> Option<&'static str> {
    let cleaned: String = text
        .split_whitespace()
        .filter(|w| !w.starts_with('@') && !w.starts_with('#') && !is_url(w.as_bytes()))
        .collect::<Vec<_>>()
        .join(" ");
    let info = whatlang::detect(&cleaned)?;
    if !info.is_reliable() {
        return None;
    }
    iso639_1(info.lang().code())
}

fn iso639_1(code3: &str) -> Option<&'static str> {
    Some(match code3 {
        "epo" => "eo",
        "eng" => "en",
        "rus" => "ru",
        "cmn" => "zh",
        "spa" => "es",
        "por" => "pt",
        "ita" => "it",
        "ben" => "bn",
        "fra" => "fr",
        "deu" => "de",
        "ukr" => "uk",
        "kat" => "ka",
        "ara" => "ar",
        "hin" => "hi",
        "jpn" => "ja",
        "heb" => "he",
        "yid" => "yi",
        "pol" => "pl",
        "amh" => "am",
        "jav" => "jv",
        "kor" => "ko",
        "nob" => "nb",
        "dan" => "da",
        "swe" => "sv",
        "fin" => "fi",
        "tur" => "tr",
        "nld" => "nl",
        "hun" => "hu",
        "ces" => "cs",
        "ell" => "el",
        "bul" => "bg",
        "bel" => "be",
        "mar" => "mr",
        "kan" => "kn",
        "ron" => "ro",
        "slv" => "sl",
        "hrv" => "hr",
        "srp" => "sr",
        "mkd" => "mk",
        "lit" => "lt",
        "lav" => "lv",
        "est" => "et",
        "tam" => "ta",
        "vie" => "vi",
        "urd" => "ur",
        "tha" => "th",
        "guj" => "gu",
        "uzb" => "uz",
        "pan" => "pa",
        "aze" => "az",
        "ind" => "id",
        "tel" => "te",
        "pes" => "fa",
        "mal" => "ml",
        "ori" => "or",
        "mya" => "my",
        "nep" => "ne",
        "sin" => "si",
        "khm" => "km",
        "tuk" => "tk",
        "aka" => "ak",
        "zul" => "zu",
        "sna" => "sn",
        "afr" => "af",
        "lat" => "la",
        "slk" => "sk",
        "cat" => "ca",
        "tgl" => "tl",
        "hye" => "hy",
        _ => return None,
    })
}

fn is_url(b: &[u8]) -> bool {
    let starts = |p: &[u8]| b.len() > p.len() && b[..p.len()].eq_ignore_ascii_case(p);
    starts(b"http://") || starts(b"https://") || starts(b"www.")
}

fn is_space_at(b: &[u8], i: usize) -> bool {
    let (c, _) = decode(b, i);
    c.is_whitespace()
}

fn utf8_len(first: u8) -> usize {
    match first {
        x if x < 0x80 => 1,
        x if x >= 0xF0 => 4,
        x if x >= 0xE0 => 3,
        x if x >= 0xC0 => 2,
        _ => 1,
    }
}

fn decode(b: &[u8], i: usize) -> (char, usize) {
    let len = utf8_len(b[i]);
    let end = (i + len).min(b.len());
    match std::str::from_utf8(&b[i..end])
        .ok()
        .and_then(|s| s.chars().next())
    {
        Some(c) => (c, len),
        None => ('\u{FFFD}', 1),
    }
}

#[cfg(test)]
mod tests {
    use super::detect;

    #[test]
    fn latin_script_languages() {
        let cases = [
            (
                "en",
                "@SkyJet my flight got cancelled and nobody is answering the phone",
            ),
            ("en", "Thanks so much for the quick help today!"),
            ("es", "mi vuelo fue cancelado y nadie contesta el teléfono"),
            ("es", "@Iberia hola, ¿por qué no puedo hacer el check-in?"),
            (
                "fr",
                "mon colis n'est jamais arrivé et le service client ne répond pas",
            ),
            ("fr", "Merci pour votre aide, c'est très gentil"),
            (
                "de",
                "Mein Paket ist immer noch nicht angekommen, das ist ärgerlich",
            ),
            ("de", "Danke für die schnelle Hilfe!"),
            (
                "pt",
                "o atendimento foi ótimo, resolveram o problema em poucos minutos",
            ),
            (
                "it",
                "il volo è stato cancellato e nessuno risponde al telefono",
            ),
            (
                "nl",
                "mijn pakket is nog steeds niet bezorgd en niemand reageert",
            ),
        ];
        for (want, text) in cases {
            assert_eq!(detect(text), want, "{text}");
        }
    }

    #[test]
    fn other_scripts() {
        let cases = [
            (
                "el",
                "Η Twitch δοκιμάζει κάθετα βίντεο ροής στην πλατφόρμα greekhub.org",
            ),
            ("ja", "フライトがキャンセルされました。電話がつながりません"),
            ("ja", "ありがとう"),
            ("ko", "배송이 아직 안 왔어요 고객센터는 전화를 안 받아요"),
            ("ru", "мой рейс отменили и никто не отвечает на звонки"),
            ("uk", "мій рейс скасували і ніхто не відповідає"),
            ("ar", "تم إلغاء رحلتي ولا أحد يرد على الهاتف"),
            ("fa", "پرواز من لغو شد و هیچ کس جواب نمی دهد"),
            ("zh", "我的航班被取消了，没有人接电话"),
            ("el", "η πτήση μου ακυρώθηκε"),
            ("he", "הטיסה שלי בוטלה ואף אחד לא עונה"),
            ("hi", "मेरी उड़ान रद्द हो गई"),
            ("th", "เที่ยวบินของฉันถูกยกเลิก"),
        ];
        for (want, text) in cases {
            assert_eq!(detect(text), want, "{text}");
        }
    }

    #[test]
    fn undetermined() {
        for text in [
            "",
            "lol ok",
            "👍👍",
            "@user @other https://t.co/abc",
            "#fail",
            "12:30 !!!",
            "ok",
            "xD",
            "omg",
        ] {
            assert_eq!(detect(text), "und", "{text:?}");
        }
    }

    #[test]
    fn english_with_names_and_links() {
        assert_eq!(
            detect("@AmericanAir #AA2241 is delayed again, what is going on? https://t.co/x"),
            "en"
        );
    }

    #[test]
    fn hostile_input_does_not_panic() {
        for text in [
            "\u{0}\u{FFFD}\u{10FFFF}",
            "@",
            "#",
            "h",
            "http://",
            "'''",
            "a\u{2019}",
            "é",
        ] {
            let _ = detect(text);
        }
        let long = "the quick brown fox ".repeat(5000);
        assert_eq!(detect(&long), "en");
    }
}
