use super::*;

fn matcher(entries: &[&str]) -> WordMatcher {
    WordMatcher::new(entries).unwrap()
}

#[test]
fn the_stream_folds_case_umlauts_leet_and_repeats() {
    let cases = [
        ("Idiot", "idiot"),
        ("I.d.i.o.t", "idiot"),
        ("1d10t", "idiot"),
        ("Idiooot", "idiot"),
        ("Ausländer", "auslaender"),
        ("Straße", "strase"),
        ("Ｉｄｉｏｔ", "idiot"),
        ("Іdiоt", "idiot"),
        ("Es steht 4:5", "essteht45"),
        ("I\u{00AD}di\u{200B}ot", "idiot"),
        ("I̶d̶i̶o̶t̶", "idiot"),
        ("Café", "cafe"),
    ];
    for (text, stream) in cases {
        assert_eq!(Normalized::new(text).letters(), stream, "{text}");
    }
}

/// `(entries, text, expected matches)`: the table the contract's rules are checked against.
const CASES: &[(&str, &str, &[&str])] = &[
    // Plain and case.
    ("idiot", "Du bist ein Idiot.", &["idiot"]),
    ("idiot", "IDIOT!", &["idiot"]),
    ("idiot", "idiot", &["idiot"]),
    ("idiot", "Was für ein idiot, echt.", &["idiot"]),
    // Separators inside a word.
    ("idiot", "Du I.d.i.o.t", &["idiot"]),
    ("idiot", "Du I d i o t", &["idiot"]),
    ("idiot", "Du I-d-i-o-t", &["idiot"]),
    ("idiot", "Du I_d_i_o_t!", &["idiot"]),
    ("idiot", "Du I. d. i. o. t.", &["idiot"]),
    ("idiot", "Du Id i o t", &["idiot"]),
    ("idiot", "Du Idi-ot", &["idiot"]),
    ("idiot", "Du Idi.ot", &["idiot"]),
    ("idiot", "Du I\u{200B}diot", &["idiot"]),
    ("idiot", "Du Idi\u{00AD}ot", &["idiot"]),
    // Digits and signs for letters.
    ("idiot", "Du 1d10t", &["idiot"]),
    ("idiot", "Du 1D10T", &["idiot"]),
    ("idiot", "Du 1 d 1 0 t", &["idiot"]),
    ("arsch", "Du @rsch", &["arsch"]),
    ("arsch", "Du Ar$ch", &["arsch"]),
    ("schlampe", "5chl4mp3", &["schlampe"]),
    ("ass", "Du @$$", &[]),
    // Repeated letters.
    ("idiot", "Idiooooot", &["idiot"]),
    ("idiot", "IIIdddiiiooottt", &["idiot"]),
    ("idiot", "I d i o o o t", &["idiot"]),
    ("ass", "Er hat ein As im Ärmel", &[]),
    ("ass", "Ein Ass im Ärmel", &["ass"]),
    ("ass", "Asssss", &["ass"]),
    ("ss", "S-Bahn", &[]),
    ("ss", "Die SS", &["ss"]),
    ("straße", "Strasse", &["straße"]),
    ("straße", "Strase", &[]),
    // Case, diacritics, compatibility forms, homoglyphs.
    ("idiot", "Ｉｄｉｏｔ", &["idiot"]),
    ("idiot", "𝐈𝐝𝐢𝐨𝐭", &["idiot"]),
    ("idiot", "Іdiоt", &["idiot"]),
    ("idiot", "ΙDΙΟΤ", &["idiot"]),
    ("idiot", "Ídíòt", &["idiot"]),
    ("idiot", "I̶d̶i̶o̶t̶", &["idiot"]),
    ("idiot", "ⓘⓓⓘⓞⓣ", &["idiot"]),
    ("pack", "Расk", &["pack"]),
    // German umlaut spellings.
    ("ausländer", "Auslaender raus", &["ausländer"]),
    ("ausländer", "AUSLÄNDER", &["ausländer"]),
    ("auslaender", "Ausländer", &["auslaender"]),
    ("ausland", "Ausländer", &[]),
    ("ausland", "im Ausland", &["ausland"]),
    ("schwul", "Heute ist es schwül", &[]),
    // Whole words only, unless `*`.
    ("anal", "Eine Analyse der Lage", &[]),
    ("anal", "an alyse", &[]),
    ("anal", "Anal", &["anal"]),
    ("rapist", "Der Therapist sagt", &[]),
    ("rapist", "the rapist", &["rapist"]),
    ("schlacht", "Der Schlachtplan", &[]),
    ("gras", "Grasland", &[]),
    ("ass", "Die Klassenarbeit", &[]),
    ("ass", "Klasse", &[]),
    ("cunt", "Scunthorpe United", &[]),
    ("hure", "Churer Rheintal", &[]),
    ("nazi", "Panazee", &[]),
    ("nazi", "Nazis", &[]),
    ("nazi*", "Nazis", &["nazi*"]),
    ("idiot", "Vollidiot", &[]),
    ("*idiot", "Vollidiot", &["*idiot"]),
    ("*idiot*", "Vollidioten", &["*idiot*"]),
    ("*idiot", "Vollidioten", &[]),
    ("idiot*", "Idioten", &["idiot*"]),
    ("*idiot*", "Voll I d i o t e n", &["*idiot*"]),
    ("*anal*", "Bahn alles", &[]),
    ("idiot", "Idiot-Kommentar", &["idiot"]),
    ("idiot", "Idioten", &[]),
    // Phrases.
    ("dumme kuh", "Du dumme Kuh!", &["dumme kuh"]),
    ("dumme kuh", "dumme-kuh", &["dumme kuh"]),
    ("dumme kuh", "dumme Kühe", &[]),
    // Numbers stay numbers.
    ("ass", "Es steht 4:5", &[]),
    ("ass", "Er hat 45 Kommentare", &[]),
    ("88", "Gruß 88", &["88"]),
    ("88", "8 Uhr", &[]),
    ("88", "888", &[]),
    // Several entries, reported as given.
    (
        "idiot,depp,trottel",
        "Du Depp, du 1d10t",
        &["idiot", "depp"],
    ),
    ("Idiot", "idiot", &["Idiot"]),
    ("idiot, Idiot", "idiot", &["idiot", "Idiot"]),
    // Emoji next to a word leave the word alone.
    ("idiot", "Idiot😀", &["idiot"]),
    ("idiot", "Idi😀ot", &["idiot"]),
    // Innocent texts.
    ("idiot", "Guten Morgen, liebe Redaktion!", &[]),
    ("idiot", "", &[]),
];

#[test]
fn the_contract_table_of_obfuscations_and_innocent_words() {
    assert!(CASES.len() >= 60);
    let mut failures = Vec::new();
    for (entries, text, expected) in CASES {
        let entries: Vec<&str> = entries.split(',').map(str::trim).collect();
        let m = matcher(&entries);
        let got = m.matches(text);
        if got != *expected {
            failures.push(format!(
                "{entries:?} in {text:?}: got {got:?}, want {expected:?}"
            ));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn bad_entries_are_refused_with_their_index() {
    let long = "x".repeat(101);
    let cases: &[(&[&str], usize, EntryError)] = &[
        (&["ok", "id*ot"], 1, EntryError::InnerStar),
        (&["  "], 0, EntryError::Empty),
        (&["*"], 0, EntryError::NoLetters),
        (&["**x"], 0, EntryError::InnerStar),
        (&["..."], 0, EntryError::NoLetters),
        (&[long.as_str()], 0, EntryError::TooLong),
    ];
    for (entries, index, error) in cases {
        assert_eq!(
            WordMatcher::new(entries).unwrap_err(),
            (*index, error.clone()),
            "{entries:?}"
        );
    }
}

#[test]
fn any_text_normalises_and_matches_without_panicking() {
    let pieces = [
        "",
        " ",
        ".",
        "a",
        "ä",
        "ß",
        "\u{301}",
        "\u{200B}",
        "1",
        "@",
        "$",
        "😀",
        "Ι",
        "ｉ",
        "ﬁ",
        "Ⅻ",
        "㎏",
        "\u{FDFA}",
        "ǅ",
        "\n",
        "-",
        "I",
        "d",
        "o",
        "t",
        "乇",
        "\u{E0041}",
    ];
    let m = matcher(&["idiot", "*a*", "a b", "ss", "88", "@$$"]);
    let mut seed = 7u64;
    for _ in 0..5_000 {
        let mut text = String::new();
        for _ in 0..12 {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            text.push_str(pieces[(seed >> 33) as usize % pieces.len()]);
        }
        let normalized = Normalized::new(&text);
        assert_eq!(normalized.gaps.len(), normalized.letters.len() + 1);
        m.find(&normalized);
    }
}

#[test]
fn an_empty_list_matches_nothing() {
    let m = WordMatcher::new::<&str>(&[]).unwrap();
    assert!(m.is_empty());
    assert!(m.matches("Idiot").is_empty());
}
