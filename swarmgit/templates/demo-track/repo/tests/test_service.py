from app.service import forecast


def test_known_city() -> None:
    assert forecast("Oslo") == "snow"


def test_unknown_city() -> None:
    assert forecast("Atlantis") == "unknown"
