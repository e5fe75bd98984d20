//! Links in a comment, with or without a scheme, and the domains they may point to.
//!
//! `linkify` finds the candidates (`https://x.at/z`, `www.example.com`, `example.com/path`) and
//! tells e-mail addresses apart. A bare `name.tld` without scheme, `www.` or path is a link only
//! when its last label looks like a top-level domain (two letters, or a common generic one) and
//! is not written like a German word after a missing space (`gut.Es`): `Ende.Anfang` and
//! `Version 1.2.3` are not links, `krone.at` and `spiegel.de` are.

use std::collections::HashSet;

use linkify::{LinkFinder, LinkKind};

/// Generic top-level domains a bare domain may end in (every two-letter one counts as a country).
const GENERIC_TLDS: &[&str] = &[
    "com",
    "net",
    "org",
    "info",
    "biz",
    "edu",
    "gov",
    "mil",
    "int",
    "name",
    "pro",
    "mobi",
    "app",
    "dev",
    "online",
    "site",
    "shop",
    "store",
    "xyz",
    "top",
    "club",
    "blog",
    "news",
    "live",
    "tech",
    "cloud",
    "page",
    "link",
    "click",
    "art",
    "wiki",
    "media",
    "social",
    "email",
    "asia",
    "berlin",
    "wien",
    "koeln",
    "hamburg",
    "bayern",
    "nrw",
    "ruhr",
    "swiss",
    "gmbh",
    "bank",
    "money",
    "win",
    "bet",
    "casino",
    "porn",
    "sex",
    "sexy",
    "xxx",
    "adult",
    "dating",
    "icu",
    "vip",
    "fun",
    "space",
    "website",
    "world",
    "today",
    "life",
    "one",
    "network",
    "company",
    "agency",
    "digital",
    "services",
    "solutions",
    "support",
    "center",
    "group",
    "global",
    "work",
    "zone",
    "plus",
    "stream",
    "video",
    "download",
    "review",
    "science",
    "party",
    "date",
    "trade",
    "loan",
    "men",
    "ltd",
    "inc",
    "llc",
    "health",
    "travel",
    "jobs",
    "museum",
    "aero",
    "coop",
    "cat",
    "tel",
    "post",
    "onion",
    "tube",
    "chat",
    "love",
    "game",
    "games",
    "radio",
    "tv",
    "guru",
    "lol",
    "wtf",
    "rocks",
];

/// The hosts of the links in a text, lower-case, in order of appearance (repeats included).
pub fn link_hosts(text: &str) -> Vec<String> {
    let mut finder = LinkFinder::new();
    finder.url_must_have_scheme(false).kinds(&[LinkKind::Url]);
    finder
        .links(text)
        .filter_map(|link| host_of(link.as_str()))
        .collect()
}

/// The host of a link found in text, or `None` when the candidate is no plausible link.
fn host_of(link: &str) -> Option<String> {
    let (has_scheme, rest) = match link.find("://") {
        Some(i) => (true, &link[i + 3..]),
        None => (false, link),
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    let host_port = authority.rsplit('@').next().unwrap_or(authority);
    let host = if let Some(v6) = host_port.strip_prefix('[') {
        v6.split(']').next().unwrap_or(v6)
    } else {
        host_port.split(':').next().unwrap_or(host_port)
    };
    let host = host.trim_end_matches('.');
    if host.is_empty() {
        return None;
    }
    let lower = host.to_lowercase();
    let has_port = !host_port.starts_with('[') && host_port.contains(':');
    let has_more = authority_end < rest.len() || has_port;
    if !has_scheme && !lower.starts_with("www.") && !has_more && !plausible_tld(host) {
        return None;
    }
    Some(lower)
}

/// Whether a bare domain's last label reads as a top-level domain rather than a word.
fn plausible_tld(host: &str) -> bool {
    let tld = host.rsplit('.').next().unwrap_or(host);
    let lower = tld.to_lowercase();
    let capitalised = tld.chars().next().is_some_and(char::is_uppercase)
        && tld.chars().skip(1).any(char::is_lowercase);
    !capitalised
        && tld.chars().all(|c| c.is_ascii_alphabetic())
        && (lower.len() == 2 || GENERIC_TLDS.contains(&lower.as_str()))
}

/// Why an allowlist entry is not a domain.
pub const NOT_A_DOMAIN: &str = "must be a domain name such as krone.at";

/// An allowlist entry as stored: lower-case, without a leading `*.` or trailing dot.
pub fn parse_domain(raw: &str) -> Result<String, &'static str> {
    let lower = raw.trim().to_lowercase();
    let domain = lower
        .strip_prefix("*.")
        .unwrap_or(&lower)
        .trim_end_matches('.');
    let labels: Vec<&str> = domain.split('.').collect();
    let label_ok = |l: &&str| {
        (1..=63).contains(&l.len())
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.chars().all(|c| c == '-' || c.is_alphanumeric())
    };
    if domain.len() > 253 || labels.len() < 2 || !labels.iter().all(label_ok) {
        return Err(NOT_A_DOMAIN);
    }
    Ok(domain.to_string())
}

/// The domains links may point to: each allows itself and its subdomains, nothing else
/// (`krone.at` allows `www.krone.at`, not `krone.at.evil.example` nor `evilkrone.at`).
#[derive(Clone, Debug, Default)]
pub struct Allowlist {
    domains: HashSet<String>,
}

impl Allowlist {
    /// From entries already checked by [`parse_domain`]; others are skipped.
    pub fn new<S: AsRef<str>>(entries: &[S]) -> Allowlist {
        Allowlist {
            domains: entries
                .iter()
                .filter_map(|e| parse_domain(e.as_ref()).ok())
                .collect(),
        }
    }

    /// Whether a (lower-case) host is an allowed domain or one of its subdomains.
    pub fn allows(&self, host: &str) -> bool {
        let mut suffix = host;
        loop {
            if self.domains.contains(suffix) {
                return true;
            }
            match suffix.find('.') {
                Some(dot) => suffix = &suffix[dot + 1..],
                None => return false,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_are_found_with_and_without_a_scheme_and_never_in_email_addresses() {
        let cases: &[(&str, &[&str])] = &[
            ("Siehe https://example.com/z jetzt", &["example.com"]),
            ("HTTPS://EXAMPLE.COM", &["example.com"]),
            ("http://user:pw@evil.example:8080/x", &["evil.example"]),
            ("ftp://files.example.org", &["files.example.org"]),
            ("www.example.com.", &["www.example.com"]),
            ("WWW.Example.Com", &["www.example.com"]),
            ("schau auf example.com/path?x=1 nach", &["example.com"]),
            ("example.com:8080", &["example.com"]),
            ("Quelle: krone.at", &["krone.at"]),
            ("(siehe heute.at)", &["heute.at"]),
            ("bit.ly/xyz und t.me/chat", &["bit.ly", "t.me"]),
            ("[Link](https://a.de)", &["a.de"]),
            ("spam.xyz kaufen", &["spam.xyz"]),
            ("http://192.168.1.1/admin", &["192.168.1.1"]),
            ("Schreib an max.mustermann@krone.at", &[]),
            ("mailto:leser@example.com", &[]),
            ("Das ist gut.Es ist", &[]),
            ("Ende.Anfang", &[]),
            ("Version 1.2.3 und ca. 20 usw.", &[]),
            ("z.B. das", &[]),
            ("Kein Link hier", &[]),
        ];
        for (text, hosts) in cases {
            assert_eq!(link_hosts(text), *hosts, "{text}");
        }
    }

    #[test]
    fn the_allowlist_allows_a_domain_and_its_subdomains_only() {
        let list = Allowlist::new(&["krone.at", "*.orf.at", "Heute.AT."]);
        for host in [
            "krone.at",
            "www.krone.at",
            "a.b.krone.at",
            "orf.at",
            "tvthek.orf.at",
            "heute.at",
        ] {
            assert!(list.allows(host), "{host}");
        }
        for host in [
            "krone.at.evil.example",
            "evilkrone.at",
            "at",
            "example.com",
            "krone.att",
        ] {
            assert!(!list.allows(host), "{host}");
        }
    }

    #[test]
    fn allowlist_entries_must_be_domains() {
        assert_eq!(parse_domain(" Krone.AT ").unwrap(), "krone.at");
        assert_eq!(parse_domain("*.krone.at").unwrap(), "krone.at");
        assert_eq!(parse_domain("bücher.de").unwrap(), "bücher.de");
        for bad in [
            "",
            "at",
            "https://krone.at",
            "krone.at/x",
            "kro ne.at",
            "-a.at",
            "a..at",
            "*",
        ] {
            assert_eq!(parse_domain(bad), Err(NOT_A_DOMAIN), "{bad:?}");
        }
    }
}
