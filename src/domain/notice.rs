//! The texts readers of a closed discussion see.

use super::states::ClosedReason;

/// The first sentence: why commenting is no longer possible.
pub fn message(reason: ClosedReason, close_after_months: u32) -> String {
    match reason {
        ClosedReason::Expired => {
            let months = if close_after_months == 1 {
                "1 Monat".to_string()
            } else {
                format!("{close_after_months} Monate")
            };
            format!(
                "Da dieser Artikel älter als {months} ist, ist zum jetzigen Zeitpunkt kein Kommentieren mehr möglich."
            )
        }
        ClosedReason::Moderator => {
            "Die Diskussion zu diesem Artikel wurde vom Community-Team geschlossen, zum jetzigen Zeitpunkt ist kein Kommentieren mehr möglich."
                .to_string()
        }
    }
}

/// The invitation to a current story of the same topic.
pub const INVITATION: &str =
    "Wir laden Sie ein, bei einer aktuelleren themenrelevanten Story mitzudiskutieren:";

/// The contact sentence naming the community team's address.
pub fn contact_text(community_email: &str) -> String {
    format!(
        "Bei Fragen können Sie sich gern an das Community-Team per Mail an {community_email} wenden."
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_expired_message_is_the_newsrooms_sentence() {
        assert_eq!(
            message(ClosedReason::Expired, 18),
            "Da dieser Artikel älter als 18 Monate ist, ist zum jetzigen Zeitpunkt kein Kommentieren mehr möglich."
        );
        assert!(message(ClosedReason::Expired, 24).contains("älter als 24 Monate"));
        assert!(message(ClosedReason::Expired, 1).contains("älter als 1 Monat ist"));
    }

    #[test]
    fn a_moderator_closure_does_not_name_the_age() {
        let m = message(ClosedReason::Moderator, 18);
        assert!(m.contains("Community-Team"));
        assert!(!m.contains("18"));
    }

    #[test]
    fn the_contact_names_the_address() {
        assert_eq!(
            contact_text("forum@krone.at"),
            "Bei Fragen können Sie sich gern an das Community-Team per Mail an forum@krone.at wenden."
        );
    }
}
