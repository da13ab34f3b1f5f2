"""Keyword cues in Czech, Danish, Greek, Finnish, Hungarian and Romanian: cancellations and
returns steer the router (`lexicon.json`), a bank named in a dispute makes it a chargeback and an
address change is recognised as one (`phrases.json`). Messages written for these tests, none of
them exemplars or held-out routing messages."""

from __future__ import annotations

import pytest

from bot.agent.phrases import mentions
from bot.agent.signals import default_lexicon

CANCELS = [
    ("cs", "Prosím zrušte mi tu objednávku, už to nechci"),
    ("cs", "Dá se objednávka #W1000003 ještě stornovat?"),
    ("da", "Jeg vil gerne annullere købet af lampen"),
    ("da", "Hvordan afbestiller jeg ordre #W1000003?"),
    ("el", "Παρακαλώ ακυρώστε μου την παραγγελία #W1000003"),
    ("el", "Γίνεται ακύρωση πριν σταλεί το δέμα;"),
    ("fi", "Voinko peruuttaa tilauksen #W1000003 vielä tänään?"),
    ("fi", "Haluan perua ostoksen, en tarvitse sitä"),
    ("hu", "Le tudom még mondani a #W1000003 rendelést?"),
    ("hu", "Kérem, mondják le a tegnapi rendelésemet"),
    ("ro", "Vă rog să anulați comanda #W1000003"),
    ("ro", "Se mai poate anula comanda de ieri?"),
]
RETURNS = [
    ("cs", "Chci vrátit kalhoty, jsou mi dlouhé"),
    ("da", "Jeg vil returnere kjolen fra ordre #W1000003"),
    ("el", "Θέλω να επιστρέψω τα ακουστικά, δεν λειτουργούν"),
    ("fi", "Haluan palauttaa takin, se on liian iso"),
    ("hu", "Szeretném visszaküldeni a kabátot"),
    ("ro", "Vreau să returnez geaca, e prea mare"),
]
# Words a cue stem could catch by accident: the Romanian year ("anul"), Finnish feedback
# ("palaute"), the Czech "comes back in stock", a Danish "quite".
NEUTRAL = [
    ("cs", "Kdy se ta bunda vrátí na sklad?"),
    ("da", "Er jakken ret varm om vinteren?"),
    ("el", "Πόσο κοστίζει η αποστολή στην Κρήτη;"),
    ("fi", "Annoin palautetta eilen, kiitos nopeasta toimituksesta"),
    ("hu", "Mennyi a szállítási idő Szegedre?"),
    ("ro", "Anul trecut am comandat aceeași geacă, mai aveți mărimea M?"),
]


@pytest.mark.parametrize(("language", "text"), CANCELS)
def test_a_cancellation_raises_the_cancel_cue(language: str, text: str) -> None:
    assert default_lexicon().match("cancel", text, [language]) is not None


@pytest.mark.parametrize(("language", "text"), RETURNS)
def test_a_return_raises_the_return_cue(language: str, text: str) -> None:
    lexicon = default_lexicon()
    assert lexicon.match("return", text, [language]) is not None
    assert lexicon.match("cancel", text, [language]) is None


@pytest.mark.parametrize(("language", "text"), NEUTRAL)
def test_neutral_messages_raise_no_routing_cue(language: str, text: str) -> None:
    lexicon = default_lexicon()
    for cue in ("cancel", "return", "dispute", "human", "exchange"):
        assert lexicon.match(cue, text, [language]) is None, cue
    assert not mentions("chargeback", text)
    assert not mentions("address_change", text)


@pytest.mark.parametrize(
    "text",
    [
        "Zažádám u své banky o vrácení platby",
        "Jeg beder banken om at føre pengene tilbage",
        "Θα καταγγείλω τη χρέωση στην τράπεζά μου",
        "Otan yhteyttä pankkiini ja vaadin rahat takaisin",
        "A bankomnál kérem vissza az összeget",
        "Voi cere băncii să returneze banii, plata nu e autorizată",
    ],
)
def test_a_dispute_naming_the_bank_is_a_chargeback(text: str) -> None:
    assert mentions("chargeback", text)


@pytest.mark.parametrize(
    "text",
    [
        "Můžete mi prosím opravit adresu v objednávce?",
        "Jeg er flyttet, kan I ændre adressen på ordren?",
        "Μπορείτε να αλλάξετε τη διεύθυνση παράδοσης;",
        "Voitteko korjata tilaukseni osoitteen?",
        "Módosítani szeretném a szállítási címemet",
        "Puteți modifica adresa de livrare a comenzii?",
    ],
)
def test_an_address_change_is_recognised(text: str) -> None:
    assert mentions("address_change", text)
