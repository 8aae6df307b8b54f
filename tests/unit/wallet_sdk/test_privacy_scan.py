"""`wallet_sdk.privacy`: every encoding family is caught on a real chain, reports are masked,
input is validated, and ``hrss-wallet privacy-check`` exits 0 / 1 / 2.

The detection tests put each form on an in-process chain the way a careless system would
(in calldata, as an indexed event topic, as an ABI integer) and build the form here,
independently of the scanner: a family dropped from the scanner fails its own case.
"""

from __future__ import annotations

import base64
import hashlib
import json
import unicodedata
import urllib.parse
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner
from eth_utils.crypto import keccak

from node_adapter import AnvilProcess, Chain, ChainUnavailable, RawLog, Signer
from tests.unit.node_adapter.probe import ABI, deploy_probe
from wallet_sdk import FormatError
from wallet_sdk.cli import main
from wallet_sdk.privacy import (
    DIGESTS,
    ChainReadError,
    PersonalValue,
    PrivacyScanReport,
    ValueKind,
    scan_chain_for,
)

NAME = "张三丰"
ID_NUMBER = "11010119900307123X"
PHONE = "13800138000"
TRAD_NAME = "陳大文"  # Big5 has traditional characters only
LATIN = "Zoë Li"  # composed ë: NFD differs
FULL_WIDTH_TEXT = "ＡＢＣ人力资源公司"  # given full-width; NFKC is ASCII + CJK

VALUES = [
    PersonalValue.person_name(NAME),
    PersonalValue.id_number(ID_NUMBER),
    PersonalValue.phone(PHONE),
    PersonalValue.person_name(TRAD_NAME, label="trad_name"),
    PersonalValue.text("latin_name", LATIN),
    PersonalValue.text("employer", FULL_WIDTH_TEXT),
]


def _hex(data: bytes) -> bytes:
    return data.hex().encode()


def _b64(data: bytes) -> bytes:
    return base64.b64encode(data)


@dataclass(frozen=True)
class Case:
    """One careless form: `payload` goes on chain by `how` (`raw` calldata, `tag`: a bytes32
    argument and indexed topic, `int`: a uint256 argument and log data); the scan must report
    `label` with `encoding`, and a variant containing `variant`."""

    id: str
    label: str
    payload: bytes | int
    encoding: str
    variant: str = "as given"
    how: str = "raw"


# A digest of the phone number whose base64 has + or /, so base64url differs from base64.
URLSAFE_DIGEST = next(
    fn for fn in DIGESTS.values() if {43, 47} & set(base64.b64encode(fn(PHONE.encode())))
)


def _phone_hash(text: str, digest: Callable[[bytes], bytes] = keccak) -> bytes:
    return digest(text.encode())


CASES = [
    # text encodings of a name
    Case("utf-8", "name", f"申请人{NAME}".encode(), "utf-8"),
    Case("utf-16-le", "name", b"\xff\xfe" + NAME.encode("utf-16-le"), "utf-16-le"),
    Case("utf-16-be", "name", b"\xfe\xff" + NAME.encode("utf-16-be"), "utf-16-be"),
    Case("utf-32-le", "name", NAME.encode("utf-32-le"), "utf-32-le"),
    Case("utf-32-be", "name", NAME.encode("utf-32-be"), "utf-32-be"),
    Case("gb18030", "name", b"name=" + NAME.encode("gb18030"), "gb18030"),
    Case("big5", "trad_name", TRAD_NAME.encode("big5"), "big5"),
    Case("json-escape", "name", json.dumps({"n": NAME}).encode(), "json-escape"),
    Case("json-escape-upper", "name", b'"\\u5F20\\u4E09\\u4E30"', "json-escape-upper"),
    Case("percent", "name", ("q=" + urllib.parse.quote(NAME)).encode(), "percent"),
    Case("percent-lower", "name", urllib.parse.quote(NAME).lower().encode(), "percent-lower"),
    # spellings
    Case("nfd", "latin_name", unicodedata.normalize("NFD", LATIN).encode(), "utf-8", "NFD"),
    Case("upper", "latin_name", LATIN.upper().encode(), "utf-8", "upper"),
    Case("lower", "latin_name", LATIN.lower().encode(), "utf-8", "lower"),
    Case("nfkc", "employer", unicodedata.normalize("NFKC", FULL_WIDTH_TEXT).encode(), "utf-8"),
    Case(
        "full-width-id",
        "id_number",
        "".join(chr(ord(c) + 0xFEE0) for c in ID_NUMBER).encode(),
        "utf-8",
        "full-width",
    ),
    Case(
        "id-check-x-lower",
        "id_number",
        keccak(ID_NUMBER.lower().encode()),
        "keccak256(utf-8)",
        "lower",
        how="tag",
    ),
    # phone number spellings, hashed (a plain one would contain the national number anyway)
    Case("phone+86", "phone", _phone_hash("+86" + PHONE), "keccak256(utf-8)", "+86", "tag"),
    Case("phone86", "phone", _phone_hash("86" + PHONE), "keccak256(utf-8)", "86", "tag"),
    Case("phone0086", "phone", _phone_hash("0086" + PHONE), "keccak256(utf-8)", "0086", "tag"),
    Case(
        "phone-spaced",
        "phone",
        _phone_hash("138 0013 8000"),
        "keccak256(utf-8)",
        "national spaced",
        "tag",
    ),
    Case(
        "phone-dashed",
        "phone",
        _phone_hash("+86-138-0013-8000"),
        "keccak256(utf-8)",
        "+86 dash dashed",
        "tag",
    ),
    Case(
        "phone+86space",
        "phone",
        _phone_hash("+86 " + PHONE),
        "keccak256(utf-8)",
        "+86 space",
        "tag",
    ),
    Case("phone-integer", "phone", int(PHONE), "integer", how="int"),
    # digests of the digits, raw and in an indexed topic
    *(
        Case(f"digest-{name}", "phone", fn(PHONE.encode()), f"{name}(utf-8)")
        for name, fn in DIGESTS.items()
    ),
    Case("digest-in-topic", "phone", keccak(PHONE.encode()), "keccak256(utf-8)", how="tag"),
    Case(
        "digest-of-utf-16",
        "name",
        hashlib.sha256(NAME.encode("utf-16-le")).digest(),
        "sha256(utf-16-le)",
    ),
    Case("digest-of-gb18030", "name", keccak(NAME.encode("gb18030")), "keccak256(gb18030)"),
    # hex and base64 wrappings
    Case(
        "hex-digest",
        "phone",
        b'{"id":"0x' + _hex(keccak(PHONE.encode())) + b'"}',
        "hex(keccak256(utf-8))",
    ),
    Case("HEX-text", "name", NAME.encode().hex().upper().encode(), "HEX(utf-8)"),
    Case("base64-digest", "phone", _b64(hashlib.sha256(PHONE.encode()).digest()), "base64"),
    *(
        Case(
            f"base64-in-text-shift{shift}",
            "name",
            _b64(b"{" * shift + f'"name":"{NAME}"'.encode()),
            "base64(utf-8)",
        )
        for shift in (1, 2, 3)
    ),
    Case(
        "base64url-digest",
        "phone",
        base64.urlsafe_b64encode(URLSAFE_DIGEST(PHONE.encode())).rstrip(b"="),
        "base64url(",
    ),
]


def _put_raw(chain: Chain, signer: Signer, payload: bytes) -> str:
    # A creation whose init code is STOP followed by the payload: the payload lands in the
    # transaction input verbatim, and nothing else happens.
    return chain.deploy(signer, [], b"\x00" + payload).tx_hash


def _put(chain: Chain, signer: Signer, probe: str, case: Case) -> str:
    if case.how == "raw":
        assert isinstance(case.payload, bytes)
        return _put_raw(chain, signer, case.payload)
    if case.how == "tag":
        assert isinstance(case.payload, bytes)
        return chain.transact(
            signer, probe, ABI, "poke", [case.payload.ljust(32, b"\0"), 1]
        ).tx_hash
    return chain.transact(signer, probe, ABI, "poke", [b"\x07" * 32, case.payload]).tx_hash


@dataclass(frozen=True)
class Scanned:
    chain: Chain
    tx_of: dict[str, str]
    report: PrivacyScanReport


@pytest.fixture(scope="module")
def scanned() -> Scanned:
    """One in-process chain holding every case, scanned once."""
    chain = Chain.embedded()
    signer = chain.dev_signers(2)[1]
    probe = deploy_probe(chain, signer)
    tx_of = {case.id: _put(chain, signer, probe, case) for case in CASES}
    return Scanned(chain, tx_of, scan_chain_for(VALUES, chain))


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_each_encoding_family_is_caught(scanned: Scanned, case: Case) -> None:
    found = [hit for hit in scanned.report.hits if hit.tx_hash == scanned.tx_of[case.id]]
    assert any(
        hit.label == case.label
        and hit.encoding.startswith(case.encoding)
        and case.variant in hit.variant
        for hit in found
    ), [(h.label, h.encoding, h.variant) for h in found]


def test_where_is_reported_input_topic_and_data(scanned: Scanned) -> None:
    in_topic = [h for h in scanned.report.hits if h.tx_hash == scanned.tx_of["digest-in-topic"]]
    assert {(h.where, h.topic_index, h.offset) for h in in_topic} == {
        ("input", None, 4),  # after the selector
        ("topic", 1, 0),
    }
    as_integer = [h for h in scanned.report.hits if h.tx_hash == scanned.tx_of["phone-integer"]]
    places = {(h.where, h.log_index) for h in as_integer}
    assert ("input", None) in places and ("data", 0) in places


def test_another_person_is_not_found_on_the_same_chain(scanned: Scanned) -> None:
    others = [
        PersonalValue.person_name("李四"),
        PersonalValue.id_number("440301199001011234"),
        PersonalValue.phone("+86 139 0000 1111"),
    ]
    report = scan_chain_for(others, scanned.chain)
    assert report.clean, report.describe()
    assert report.transactions == len(CASES) + 1 and report.logs > 0


def test_report_and_values_never_show_the_values(scanned: Scanned) -> None:
    report = scanned.report
    text = report.describe() + json.dumps(report.to_json(), ensure_ascii=False)
    text += repr(VALUES) + "".join(str(v) for v in VALUES) + repr(report)
    for clear in (NAME, ID_NUMBER, PHONE, "138 0013", TRAD_NAME, LATIN, "ABC人力"):
        assert clear not in text
    for masked in ("张*", "1101**********123X", "138****8000", "陳*", "Z*****"):
        assert masked in text
    assert report.values[0].masked == "张*" and report.values[0].forms > 100


def test_a_binary_value_is_a_positive_control(scanned: Scanned) -> None:
    tx_hash = scanned.tx_of["digest-in-topic"]
    report = scan_chain_for([PersonalValue.binary("tag", keccak(PHONE.encode()))], scanned.chain)
    assert {(h.tx_hash, h.where, h.encoding) for h in report.hits} >= {
        (tx_hash, "topic", "raw"),
        (tx_hash, "input", "raw"),
    }


def test_a_block_range_and_an_address_filter_narrow_the_scan(embedded_chain: Chain) -> None:
    chain = embedded_chain
    signer = chain.dev_signers(2)[1]
    probe, other = deploy_probe(chain, signer), deploy_probe(chain, signer)
    leak = chain.transact(signer, probe, ABI, "poke", [keccak(PHONE.encode()), 1])
    values = [PersonalValue.phone(PHONE)]
    assert scan_chain_for(values, chain, to_block=leak.block_number - 1).clean
    assert not scan_chain_for(values, chain, from_block=leak.block_number).clean
    assert scan_chain_for(values, chain, addresses=[other]).clean
    only_probe = scan_chain_for(values, chain, addresses=[probe.lower()])
    assert {h.where for h in only_probe.hits} == {"input", "topic"}
    assert only_probe.transactions == 1


@dataclass
class _Reader:
    """A chain of `blocks` empty blocks with one log in the last one, recording what is asked."""

    blocks: int
    log_ranges: list[tuple[int, int]]

    def block_number(self) -> int:
        return self.blocks - 1

    def block_transactions(self, number: int) -> Sequence[object]:
        return ()

    def get_logs(
        self, *, address: str | Sequence[str] | None, from_block: int, to_block: int
    ) -> Sequence[RawLog]:
        self.log_ranges.append((from_block, to_block))
        last = self.blocks - 1
        if not from_block <= last <= to_block:
            return []
        data = b"\x00" * 31 + PHONE.encode()
        return [RawLog("0x" + "00" * 20, (), data, last, bytes(32), "0x" + "ab" * 32, 0)]


def test_blocks_are_read_a_window_at_a_time() -> None:
    reader = _Reader(blocks=1000, log_ranges=[])
    report = scan_chain_for([PersonalValue.phone(PHONE)], reader, window=300)  # type: ignore[arg-type]
    assert reader.log_ranges == [(0, 299), (300, 599), (600, 899), (900, 999)]
    (hit,) = [h for h in report.hits if h.variant == "as given"]
    assert (hit.block_number, hit.where, hit.offset, hit.log_index) == (999, "data", 31, 0)
    assert report.blocks == 1000


def test_a_match_across_two_fields_is_not_reported() -> None:
    class Split(_Reader):
        def get_logs(self, **_: object) -> Sequence[RawLog]:
            half = len(PHONE) // 2
            return [
                RawLog(
                    "0x" + "00" * 20,
                    (PHONE[:half].encode(),),
                    PHONE[half:].encode(),
                    0,
                    bytes(32),
                    "0x" + "ab" * 32,
                    0,
                )
            ]

    assert scan_chain_for([PersonalValue.phone(PHONE)], Split(1, [])).clean  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: PersonalValue.id_number("12345"), "not an ID number"),
        (lambda: PersonalValue.id_number("1101011990030712XX"), "not an ID number"),
        (lambda: PersonalValue.phone("138-abc"), "digits, spaces"),
        (lambda: PersonalValue.phone("123"), "5 to 15 digits"),
        (lambda: PersonalValue.person_name("  "), "empty value"),
        (lambda: PersonalValue.text("bad label!", "x"), "bad label"),
        (lambda: PersonalValue.binary("short", b"abc"), "at least 4 bytes"),
    ],
)
def test_malformed_values_are_rejected(build: Callable[[], object], message: str) -> None:
    with pytest.raises(FormatError, match=message):
        build()


def test_bad_ranges_are_rejected(embedded_chain: Chain) -> None:
    values = [PersonalValue.phone(PHONE)]
    latest = embedded_chain.block_number()
    with pytest.raises(FormatError, match="nothing to look for"):
        scan_chain_for([], embedded_chain)
    with pytest.raises(FormatError, match="bad block range"):
        scan_chain_for(values, embedded_chain, from_block=2, to_block=1)
    with pytest.raises(FormatError, match="beyond the latest block"):
        scan_chain_for(values, embedded_chain, to_block=latest + 1)
    with pytest.raises(FormatError, match="empty address list"):
        scan_chain_for(values, embedded_chain, addresses=[])


def test_an_unreadable_chain_is_an_error_not_a_clean_report() -> None:
    chain = Chain.from_urls(["http://127.0.0.1:9"], timeout=1.0)
    with pytest.raises(ChainReadError, match="cannot read") as caught:
        scan_chain_for([PersonalValue.phone(PHONE)], chain)
    assert isinstance(caught.value.__cause__, ChainUnavailable)


def test_the_kinds_of_the_builders() -> None:
    assert [v.kind for v in VALUES[:3]] == [ValueKind.NAME, ValueKind.ID_NUMBER, ValueKind.PHONE]
    assert PersonalValue.phone("+86 138-0013-8000").masked == "138****8000"


# -- the command line -------------------------------------------------------------------


@pytest.fixture
def leaky_node(anvil_process_factory: Callable[..., AnvilProcess]) -> str:
    """A fresh anvil node on which a careless system used keccak256(phone) as an id."""
    node = anvil_process_factory()
    chain = Chain.from_urls([node.url], receipt_timeout=30.0)
    signer = chain.dev_signers(2)[1]
    probe = deploy_probe(chain, signer)
    chain.transact(signer, probe, ABI, "poke", [keccak(PHONE.encode()), 1])
    return node.url


@pytest.mark.anvil
def test_cli_exit_codes_and_masked_output(leaky_node: str) -> None:
    runner = CliRunner()
    found = runner.invoke(main, ["privacy-check", "--rpc-url", leaky_node, "--phone", PHONE])
    assert found.exit_code == 1, found.output
    assert "138****8000" in found.output and "keccak256(utf-8)" in found.output
    assert PHONE not in found.output

    clean = runner.invoke(
        main, ["privacy-check", "--rpc-url", leaky_node, "--name", NAME, "--id-number", ID_NUMBER]
    )
    assert clean.exit_code == 0, clean.output
    assert "none found" in clean.output and NAME not in clean.output

    as_json = runner.invoke(
        main, ["privacy-check", "--rpc-url", leaky_node, "--value", f"mobile={PHONE}", "--json"]
    )
    assert as_json.exit_code == 1
    report = json.loads(as_json.output)
    assert report["clean"] is False and {h["label"] for h in report["hits"]} == {"mobile"}


@pytest.mark.anvil
def test_cli_reads_values_from_stdin(leaky_node: str) -> None:
    runner = CliRunner()
    result = runner.invoke(
        main,
        ["privacy-check", "--rpc-url", leaky_node, "--values-file", "-"],
        input=f"# the cardholder\nname={NAME}\nphone=+86 138 0013 8000\n",
    )
    assert result.exit_code == 1, result.output
    assert "phone (138****8000)" in result.output and NAME not in result.output


@pytest.mark.anvil
def test_cli_bad_input_exits_2(leaky_node: str) -> None:
    runner = CliRunner()
    cases = [
        (["--id-number", "12345"], "not an ID number"),
        ([], "nothing to look for"),
        (["--value", "no-equals-sign"], "LABEL=TEXT"),
        (["--phone", PHONE, "--to-block", "100000"], "beyond the latest block"),
    ]
    for args, message in cases:
        result = runner.invoke(main, ["privacy-check", "--rpc-url", leaky_node, *args])
        assert result.exit_code == 2, (args, result.output)
        assert message in result.output


def test_cli_unreachable_node_exits_2() -> None:
    result = CliRunner().invoke(
        main,
        ["privacy-check", "--rpc-url", "http://127.0.0.1:9", "--timeout", "1", "--phone", PHONE],
    )
    assert result.exit_code == 2
    assert "error: cannot read the latest block number: no node reachable" in result.output
    assert PHONE not in result.output


def test_cli_values_file_line_errors_do_not_echo_the_line(tmp_path: Path) -> None:
    values = tmp_path / "values.txt"
    values.write_text(f"name={NAME}\n{PHONE}\n", encoding="utf-8")
    result = CliRunner().invoke(
        main,
        ["privacy-check", "--rpc-url", "http://127.0.0.1:9", "--values-file", str(values)],
    )
    assert result.exit_code == 2
    assert "line 2: expected LABEL=TEXT" in result.output and PHONE not in result.output
