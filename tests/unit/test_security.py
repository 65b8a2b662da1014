"""Password hashing, the password policy and session tokens (app/services/security.py)."""

from __future__ import annotations

import base64
import hashlib
import re
import unicodedata

import pytest
from passlib.context import CryptContext

from app.services import security
from app.services.errors import ValidationFailed


def _params(stored: str) -> dict[str, int]:
    match = re.match(r"^\$argon2id\$v=\d+\$m=(\d+),t=(\d+),p=(\d+)\$", stored)
    assert match, stored
    m, t, p = (int(g) for g in match.groups())
    return {"m": m, "t": t, "p": p}


def _policy_key(password: str, username: str = "lan.nguyen") -> str | None:
    try:
        security.check_new_password(password, username=username)
    except ValidationFailed as err:
        return err.fields["password"]
    return None


def test_hashes_are_argon2id_with_at_least_the_owasp_minimum_cost() -> None:
    stored = security.hash_password("một mật khẩu đủ dài")
    assert stored.startswith("$argon2id$")
    params = _params(stored)
    assert params["m"] >= 19456
    assert params["t"] >= 2
    assert params["p"] == 1


def test_each_hash_is_salted_and_verifies_only_the_right_password() -> None:
    first = security.hash_password("tre xanh bên bờ ao")
    second = security.hash_password("tre xanh bên bờ ao")
    assert first != second
    assert security.verify_password("tre xanh bên bờ ao", first)
    assert security.verify_password("tre xanh bên bờ ao", second)
    assert not security.verify_password("tre xanh bên bờ aO", first)
    assert not security.verify_password("", first)


def test_composed_and_decomposed_vietnamese_spellings_verify_alike() -> None:
    composed = unicodedata.normalize("NFC", "Mùa thu Hà Nội")
    decomposed = unicodedata.normalize("NFD", composed)
    assert composed != decomposed
    stored = security.hash_password(decomposed)
    assert security.verify_password(composed, stored)


def test_a_malformed_stored_hash_is_a_mismatch_not_a_crash() -> None:
    assert not security.verify_password("whatever-password", "not-a-hash")
    assert not security.verify_password("whatever-password", "")
    assert security.needs_rehash("not-a-hash")


def test_hashes_made_with_weaker_parameters_need_rehash() -> None:
    weak = CryptContext(
        schemes=["argon2"], argon2__type="ID", argon2__memory_cost=8192, argon2__time_cost=1
    ).hash("cây đa giếng nước")
    assert security.verify_password("cây đa giếng nước", weak)
    assert security.needs_rehash(weak)
    assert not security.needs_rehash(security.hash_password("cây đa giếng nước"))


def test_the_dummy_hash_is_a_real_argon2id_hash_that_matches_nothing_typed() -> None:
    dummy = security.dummy_hash()
    assert _params(dummy)["m"] >= 19456
    assert dummy == security.dummy_hash()
    assert not security.verify_password("password", dummy)


def test_password_length_counts_characters_from_8_to_128() -> None:
    assert _policy_key("xk3#vq9") == "account.password_too_short"
    assert _policy_key("xk3#vq9z") is None
    assert _policy_key("x" * 127 + "z") is None
    assert _policy_key("x" * 128 + "z") == "account.password_too_long"


def test_length_is_counted_in_characters_after_nfc_not_in_bytes_or_decomposed_marks() -> None:
    seven = "Đồng hà"  # 7 characters, many more code points when decomposed
    assert len(unicodedata.normalize("NFD", seven)) > 8
    assert _policy_key(unicodedata.normalize("NFD", seven)) == "account.password_too_short"
    # 128 Vietnamese letters are 256+ bytes in UTF-8 and still allowed.
    assert _policy_key("ệ" * 127 + "a") is None


def test_any_unicode_is_accepted_without_composition_rules() -> None:
    for password in (
        "tôi đi chợ bến thành",
        "Đường lên Sa Pa 🚲🌄",
        "山水相连 quê hương",
        "all lower case words here",
    ):
        assert _policy_key(password) is None, password
        assert security.verify_password(password, security.hash_password(password))


def test_common_passwords_are_refused_in_any_case_or_with_diacritics() -> None:
    for password in ("password", "12345678", "matkhau123", "anhyeuem", "iloveyou", "123456789"):
        assert _policy_key(password) == "account.password_too_common", password
    assert _policy_key("MatKhau123") == "account.password_too_common"
    assert _policy_key("Mật Khẩu 123") == "account.password_too_common"
    assert _policy_key("ANHYEUEM") == "account.password_too_common"


def test_the_shipped_common_password_list_has_at_least_1000_entries() -> None:
    listed = security.common_passwords()
    assert len(listed) >= 1000
    assert {"matkhau", "anhyeuem", "iloveyou", "123456789", "password"} <= listed
    assert all(p == p.casefold() for p in listed)


def test_the_username_is_refused_as_password_whatever_its_case() -> None:
    assert _policy_key("lan.nguyen", username="lan.nguyen") == "account.password_is_username"
    assert _policy_key("Lan.Nguyen", username="lan.nguyen") == "account.password_is_username"
    assert _policy_key("lan.nguyen", username="someone.else") is None


def test_policy_errors_name_the_field_asked_for() -> None:
    with pytest.raises(ValidationFailed) as caught:
        security.check_new_password("short", username="x", field="new")
    assert caught.value.fields == {"new": "account.password_too_short"}
    assert caught.value.params == {"min": 8, "max": 128}


def test_long_passwords_are_not_truncated() -> None:
    long_password = "a" * 127 + "b"
    assert len(long_password) == 128
    stored = security.hash_password(long_password)
    assert security.verify_password(long_password, stored)
    assert not security.verify_password("a" * 127 + "c", stored)
    assert not security.verify_password("a" * 127, stored)
    # Past bcrypt's 72-byte limit with multi-byte characters, too.
    unicode_long = "ữ" * 100 + "1"
    stored_unicode = security.hash_password(unicode_long)
    assert not security.verify_password("ữ" * 100 + "2", stored_unicode)


def test_tokens_carry_at_least_128_random_bits_and_never_repeat() -> None:
    tokens = {security.new_token() for _ in range(200)}
    assert len(tokens) == 200
    token = next(iter(tokens))
    raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    assert len(raw) * 8 >= 128
    assert re.fullmatch(r"[A-Za-z0-9_-]+", token)


def test_the_token_hash_is_sha256_hex_and_is_not_the_token() -> None:
    token = security.new_token()
    digest = security.token_hash(token)
    assert digest == hashlib.sha256(token.encode()).hexdigest()
    assert len(digest) == 64
    assert token not in digest
    assert security.token_hash(token) == digest


def test_device_keys_are_32_random_bytes_in_hex() -> None:
    key = security.new_device_key()
    assert re.fullmatch(r"[0-9a-f]{64}", key)
    assert key != security.new_device_key()


def test_one_time_passwords_pass_the_policy_and_differ() -> None:
    passwords = {security.one_time_password() for _ in range(50)}
    assert len(passwords) == 50
    for password in passwords:
        assert re.fullmatch(r"[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}", password)
        assert _policy_key(password) is None


def test_the_common_password_list_has_at_least_ten_thousand_entries() -> None:
    listed = security.common_passwords()
    assert len(listed) >= 10_000
    # Well-known ones from the big list, and our Vietnamese ones.
    for word in ("sunshine1", "iloveyou2", "matkhau123", "anhyeuem"):
        assert security.is_common_password(word), word


@pytest.mark.parametrize("password", [
    "DongHanh-2026", "đồng hành 123", "tnv.demo-2026", "TNVDEMO!!99", "Nguyễn-Thị-Hoa-1990",
])
def test_a_password_built_on_the_apps_name_the_login_or_the_persons_name_is_refused(
        password: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        security.check_new_password(password, username="tnv.demo",
                                    context=("Nguyễn Thị Hoa", "0912345678"))
    assert refused.value.fields == {"password": "account.password_context"}


def test_a_password_unrelated_to_the_context_is_accepted() -> None:
    security.check_new_password("mây trắng bay trên núi", username="tnv.demo",
                                context=("Nguyễn Thị Hoa",))
