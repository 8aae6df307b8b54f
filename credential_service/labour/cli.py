"""``hrss contract``: the employer's side of electronic labour contracts against a running
service: create, sign, amend, renew, terminate, list, show, evidence, report.

Every command signs in as the employer (``--client-id``, and its private key from
``--key-file`` or the demo ``--client-keystore``) with ``private_key_jwt``. ``sign`` signs the
record the service has pending for the employer (the offer of a new version, or a termination)
with the employer's document-signing key registered in `TrustRegistry` (``--signing-key-file``;
with the demo ``--client-keystore``, the demo employer's ``document/<id>`` entry).
``create``, ``amend``, ``renew`` and ``terminate`` take ``--sign`` to sign at once. The
employee signs in the wallet: ``hrss-wallet contract sign``.

Exit status: 0 done; 1 the service refused (its ``code`` and message are printed); 2 usage.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import click

from credential_service.cli_connection import signing_in

if TYPE_CHECKING:  # imported when a command runs: `hrss --help` starts without them
    import httpx

__all__ = ["contract_group"]

_INTEGER = re.compile(r"-?(0|[1-9][0-9]*)")


class _Employer:
    """The signed-in employer: service URL, client id and private JWK."""

    def __init__(
        self,
        service: str,
        client_id: str,
        jwk: dict[str, str],
        document_jwk: dict[str, str] | None = None,
    ) -> None:
        self.service = service.rstrip("/")
        self.client_id = client_id
        self.jwk = jwk
        self.document_jwk = document_jwk

    def session(self) -> httpx.Client:
        from credential_service.service_client import fetch_access_token, service_session

        token = fetch_access_token(self.service, self.client_id, self.jwk)
        return service_session(self.service, token)


def _employer(
    service_url: str, client_id: str, key_file: Path | None, client_keystore: Path | None
) -> _Employer:
    """The signed-in employer, with the demo keystore's document key when it has one."""
    from credential_service.service_client import client_jwk, document_jwk

    jwk = client_jwk(client_id=client_id, key_file=key_file, client_keystore=client_keystore)
    document = (
        None
        if client_keystore is None
        else document_jwk(client_id=client_id, client_keystore=client_keystore)
    )
    return _Employer(service_url, client_id, jwk, document)


_as_employer = signing_in("employer", _employer)
"""Give a command the connection options and call it with the signed-in `_Employer`."""


@click.group("contract")
def contract_group() -> None:
    """Electronic labour contracts, the employer's side (电子劳动合同, 用人单位)."""


def _key_terms(pairs: tuple[str, ...]) -> dict[str, str | int]:
    """``NAME=VALUE`` pairs; a VALUE written as a plain integer (no leading zero) is an
    integer, anything else a string."""
    terms: dict[str, str | int] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise click.BadParameter(f"{pair!r} is not NAME=VALUE", param_hint="--key-term")
        terms[name.strip()] = int(value) if _INTEGER.fullmatch(value) else value
    if not terms:
        raise click.BadParameter("give at least one --key-term NAME=VALUE")
    return terms


def _echo_contract(contract: dict[str, Any]) -> None:
    click.echo(json.dumps(contract, indent=2, sort_keys=True, ensure_ascii=False))


def _contract_path(contract_id: str) -> str:
    return f"/v1/labour-contracts/{contract_id}"


def _sign(employer: _Employer, client: httpx.Client, contract_id: str, key: Path | None) -> Any:
    """Sign the employer's pending record of `contract_id` and submit the signature."""
    from credential_service.service_client import checked
    from wallet_sdk.errors import WalletError
    from wallet_sdk.evidence import Role, employer_entity_id, pending_record, sign_as_employer
    from wallet_sdk.jose import Jwk

    contract = checked(client.get(_contract_path(contract_id))).json()
    if key is None and employer.document_jwk is None:
        raise click.UsageError(
            "give --signing-key-file: the employer's document-signing key registered on chain "
            "(a client-authentication key does not sign contracts)"
        )
    try:
        signing_key = Jwk.from_jwk(
            json.loads(key.read_text(encoding="utf-8"))
            if key is not None
            else cast(dict[str, str], employer.document_jwk)
        )
        record = pending_record(contract, role=Role.EMPLOYER, at=int(time.time()))
        signature = sign_as_employer(
            record, key=signing_key, entity_id=employer_entity_id(employer.client_id)
        )
    except (OSError, ValueError, WalletError) as err:
        raise click.ClickException(f"cannot sign contract {contract_id}: {err}") from err
    response = client.post(f"{_contract_path(contract_id)}/signature", json={"jws": signature.jws})
    return checked(response).json()


_signing_key_option = click.option(
    "--signing-key-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The employer's document-signing key registered on chain, a JSON JWK "
    "(default with --client-keystore: the demo employer's document key).",
)
_sign_now_option = click.option(
    "--sign", "sign_now", is_flag=True, help="Sign the prepared record at once."
)
_hr_operator_option = click.option(
    "--hr-operator", required=True, help="Who acts for the employer, e.g. '人事经理 陈静 (HR-007)'."
)
_key_term_option = click.option(
    "--key-term",
    "key_terms",
    multiple=True,
    metavar="NAME=VALUE",
    help="A key term (position, term, wage...), repeatable; integers stay integers.",
)


def _upload(
    client: httpx.Client, path: str, document: Path, terms: dict[str, Any]
) -> dict[str, Any]:
    from credential_service.service_client import checked

    response = client.post(
        path,
        files={"document": (document.name, document.read_bytes(), "application/octet-stream")},
        data={"terms": json.dumps(terms, ensure_ascii=False)},
    )
    answer: dict[str, Any] = checked(response, 201).json()
    return answer


def _employee(path: Path) -> tuple[str, str]:
    """(holder address, did:jwk) from what ``hrss-wallet whoami`` printed."""
    try:
        identity = json.loads(path.read_text(encoding="utf-8"))
        return str(identity["address"]), str(identity["did"])
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise click.BadParameter(
            f"{path} is not the JSON `hrss-wallet whoami` prints ({err})", param_hint="--employee"
        ) from err


@contract_group.command("create")
@click.argument("document", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--employee",
    "employee_file",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The employee's wallet: the JSON `hrss-wallet whoami` prints (address, did).",
)
@click.option(
    "--employee-name",
    required=True,
    help="The employee's name as on their e-card: only they can sign the contract.",
)
@click.option(
    "--employee-id",
    "employee_id_number",
    required=True,
    metavar="ID_NUMBER",
    help="The employee's citizen ID number (18 characters), sealed by the service.",
)
@_hr_operator_option
@_key_term_option
@_sign_now_option
@_signing_key_option
@_as_employer
def create_command(
    employer: _Employer,
    document: Path,
    employee_file: Path,
    employee_name: str,
    employee_id_number: str,
    hr_operator: str,
    key_terms: tuple[str, ...],
    sign_now: bool,
    signing_key_file: Path | None,
) -> None:
    """Upload DOCUMENT as a new contract with the employee named by name and ID number (the
    employee signs with the e-card that shows them); print the contract. The employer's
    signature is then pending (``sign``)."""
    holder, did = _employee(employee_file)
    terms = {
        "employee_holder": holder,
        "employee_did": did,
        "employee_name": employee_name,
        "employee_id_number": employee_id_number.strip().upper(),
        "hr_operator": hr_operator,
        "key_terms": _key_terms(key_terms),
    }
    with employer.session() as client:
        contract = _upload(client, "/v1/labour-contracts", document, terms)
        if sign_now:
            contract = _sign(employer, client, contract["contract_id"], signing_key_file)
    _echo_contract(contract)


@contract_group.command("sign")
@click.argument("contract_id")
@_signing_key_option
@_as_employer
def sign_command(employer: _Employer, contract_id: str, signing_key_file: Path | None) -> None:
    """Sign the record pending for the employer (an offer or a termination); print the
    contract."""
    with employer.session() as client:
        _echo_contract(_sign(employer, client, contract_id, signing_key_file))


def _new_version_command(name: str, relation: str, summary: str) -> click.Command:
    """``amend`` and ``renew``: one more version of an effective contract."""

    @contract_group.command(name, help=f"{summary} with DOCUMENT as its new version.")
    @click.argument("contract_id")
    @click.argument("document", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @_hr_operator_option
    @_key_term_option
    @_sign_now_option
    @_signing_key_option
    @_as_employer
    def command(
        employer: _Employer,
        contract_id: str,
        document: Path,
        hr_operator: str,
        key_terms: tuple[str, ...],
        sign_now: bool,
        signing_key_file: Path | None,
    ) -> None:
        terms = {
            "relation": relation,
            "hr_operator": hr_operator,
            "key_terms": _key_terms(key_terms),
        }
        with employer.session() as client:
            contract = _upload(client, f"{_contract_path(contract_id)}/versions", document, terms)
            if sign_now:
                contract = _sign(employer, client, contract_id, signing_key_file)
        _echo_contract(contract)

    return command


amend_command = _new_version_command("amend", "amendment", "Amend (变更) an effective contract")
renew_command = _new_version_command("renew", "renewal", "Renew (续订) an effective contract")


@contract_group.command("terminate")
@click.argument("contract_id")
@click.option(
    "--reason-code", required=True, help="e.g. employer-notice, mutual-agreement (a-z 0-9 _ . -)."
)
@click.option("--reason", required=True, help="The reason, in words.")
@click.option("--effective-date", required=True, metavar="YYYY-MM-DD")
@_sign_now_option
@_signing_key_option
@_as_employer
def terminate_command(
    employer: _Employer,
    contract_id: str,
    reason_code: str,
    reason: str,
    effective_date: str,
    sign_now: bool,
    signing_key_file: Path | None,
) -> None:
    """Prepare the employer's termination (解除) of an effective contract."""
    from credential_service.service_client import checked

    body = {"reason_code": reason_code, "reason": reason, "effective_date": effective_date}
    with employer.session() as client:
        response = client.post(f"{_contract_path(contract_id)}/termination", json=body)
        contract = checked(response).json()
        if sign_now:
            contract = _sign(employer, client, contract_id, signing_key_file)
    _echo_contract(contract)


@contract_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print the contracts as JSON.")
@_as_employer
def list_command(employer: _Employer, as_json: bool) -> None:
    """The employer's contracts: id, state, latest version, employee, who signs next."""
    from credential_service.service_client import checked
    from wallet_sdk.evidence import contract_line

    with employer.session() as client:
        contracts = checked(client.get("/v1/labour-contracts")).json()
    if as_json:
        click.echo(json.dumps(contracts, indent=2, sort_keys=True, ensure_ascii=False))
        return
    for contract in contracts:
        click.echo(contract_line(contract, party="employee_holder"))


@contract_group.command("show")
@click.argument("contract_id")
@click.option(
    "--document",
    "document_out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also save the latest version's document to this file.",
)
@_as_employer
def show_command(employer: _Employer, contract_id: str, document_out: Path | None) -> None:
    """One contract with its versions, key terms, events and anchoring state."""
    from credential_service.service_client import checked

    with employer.session() as client:
        contract = checked(client.get(_contract_path(contract_id))).json()
        if document_out is not None:
            document = checked(client.get(f"{_contract_path(contract_id)}/document"))
            document_out.write_bytes(document.content)
    _echo_contract(contract)


def _download(employer: _Employer, path: str, out: Path) -> None:
    from credential_service.service_client import checked

    with employer.session() as client:
        out.write_bytes(checked(client.get(path)).content)
    click.echo(f"wrote {out}")


@contract_group.command("evidence")
@click.argument("contract_id")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Default: evidence-ID.json",
)
@click.option("--disclose-key-terms", is_flag=True, help="Include the key terms in clear.")
@_as_employer
def evidence_command(
    employer: _Employer, contract_id: str, output: Path | None, disclose_key_terms: bool
) -> None:
    """Save the hrss-evidence/1 package (for `hrss verify-evidence` or a court)."""
    query = "?disclose_key_terms=true" if disclose_key_terms else ""
    out = output or Path(f"evidence-{contract_id}.json")
    _download(employer, f"{_contract_path(contract_id)}/evidence{query}", out)


@contract_group.command("report")
@click.argument("contract_id")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Default: evidence-ID.pdf",
)
@_as_employer
def report_command(employer: _Employer, contract_id: str, output: Path | None) -> None:
    """Save the printable evidence report (PDF, with a QR code to the verification page)."""
    out = output or Path(f"evidence-{contract_id}.pdf")
    _download(employer, f"{_contract_path(contract_id)}/report.pdf", out)
