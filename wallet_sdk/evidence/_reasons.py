"""Why each evidence check passed, failed or was skipped, as a code with parameters.

A check's reason is carried as a `Reason` (a code from `REASON_TEXTS` and its parameters), so
a reader can show it in their own language: the verification page translates it in the
browser from the catalogue, and the English ``detail`` of a `CheckResult` is rendered from
the same catalogue. Parameters whose name is ``event``, ``role``, ``kind``, ``status`` or
``checks`` hold identifiers the reader translates too; ``time`` holds Unix seconds (shown as
UTC); an event
is named by the parameters ``index``, ``event`` and ``version`` and shown through the
``{label}`` placeholder (the ``_label`` template).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Final

__all__ = ["REASON_TEXTS", "Reason"]

_TEXTS: dict[str, tuple[str, str]] = {
    # code: (English, 中文)
    "_label": (
        "event {index} ({event}, version {version})",
        "第 {index} 号事件（{event}，第 {version} 版）",
    ),
    "not_run": ("not run: {checks} failed", "未执行：{checks} 未通过"),
    "chain.query_failed": ("chain query failed: {error}", "区块链查询失败：{error}"),
    "error.verification": ("{check}: {message}", "核验未通过（{check}）"),
    "error.other": ("{message}", "核验未通过：{message}"),
    "format.ok": (
        "hrss-evidence/1 package of contract {contract}: {events} events",
        "合同 {contract} 的 hrss-evidence/1 证据包，共 {events} 个事件",
    ),
    "format.invalid": ("{message}", "证据包格式不符（{message}）"),
    "document.none": (
        "no document given: only the package was verified",
        "未提供合同文件：仅核验了证据包",
    ),
    "document.match": (
        "{algorithm} {digest} is version {version}",
        "文件 {algorithm} {digest} 与第 {version} 版一致",
    ),
    "document.no_match": (
        "the document's {digest} matches no version in this package: it is not the "
        "signed contract (altered or another file)",
        "文件 {digest} 与证据包中任何版本都不一致：该文件不是所签署的合同（已被改动或是其他文件）",
    ),
    "event_chain.entity_id": (
        "the employer's entity id is not the hash of its credit code",
        "用人单位的链上标识不是其统一社会信用代码的哈希",
    ),
    "event_chain.duplicate_version": (
        "a version is listed twice in documents",
        "文件列表中有重复的版本",
    ),
    "event_chain.sequence": (
        "event {index} has sequence {sequence}",
        "第 {index} 号事件的序号为 {sequence}",
    ),
    "event_chain.other_contract": (
        "{label} belongs to contract {contract}",
        "{label}属于另一份合同 {contract}",
    ),
    "event_chain.broken": (
        "{label} does not follow the event before it (hash chain broken)",
        "{label}未接续前一事件（哈希链断裂）",
    ),
    "event_chain.unlisted_document": (
        "{label} names a document not listed for version {version}",
        "{label}所指文件不在第 {version} 版的文件列表中",
    ),
    "event_chain.digest_alg": (
        "{label} is hashed with {record_alg} but its version's document is listed under "
        "{document_alg}",
        "{label}使用 {record_alg} 摘要，而该版文件列表所载摘要算法为 {document_alg}",
    ),
    "event_chain.other_parties": (
        "{label} names other parties than the package",
        "{label}所载当事人与证据包不一致",
    ),
    "event_chain.wrong_role": ("{label} must be signed by the {role}", "{label}应由{role}签署"),
    "event_chain.not_a_party": (
        "{label} is signed by {signer}, not a party",
        "{label}由 {signer} 签署，其不是合同当事人",
    ),
    "event_chain.ok": (
        "{events} events chained by digest, each signed by the right party",
        "{events} 个事件按摘要首尾相连，均由相应当事人签署",
    ),
    "key.bad_algorithm": (
        "key {key} has algorithm code {alg}, not a document-signing algorithm",
        "密钥 {key} 的算法代码为 {alg}，不是文档签名算法",
    ),
    "key.invalid": ("key {key} on chain is not a valid public key", "链上密钥 {key} 不是有效公钥"),
    "key.thumbprint": (
        "key {key} on chain does not hash to its key id",
        "链上密钥 {key} 的哈希与其密钥标识不符",
    ),
    "key.unregistered": (
        "{label}: signing key {key} is not registered in TrustRegistry",
        "{label}：签名密钥 {key} 未在 TrustRegistry 中登记",
    ),
    "key.other_entity": (
        "{label}: key {key} is registered to entity {entity}, not to the employer",
        "{label}：密钥 {key} 登记在主体 {entity} 名下，不属于该用人单位",
    ),
    "key.purpose_client_authentication": (
        "{label}: key {key} is registered for client authentication, not for document signing",
        "{label}：密钥 {key} 登记为客户端身份认证密钥，不能签署文件",
    ),
    "key.purpose_credential_signing": (
        "{label}: key {key} is registered for credential signing, not for document signing",
        "{label}：密钥 {key} 登记为凭证签发密钥，不能签署文件",
    ),
    "key.purpose_anchoring": (
        "{label}: key {key} is registered for anchoring, not for document signing",
        "{label}：密钥 {key} 登记为上链存证密钥，不能签署文件",
    ),
    "key.purpose_unknown": (
        "{label}: key {key} is not registered for document signing",
        "{label}：密钥 {key} 未登记为文件签署密钥",
    ),
    "employee.unreadable_did": (
        "{did}... is not a readable did:jwk",
        "{did}… 不是可读取的 did:jwk",
    ),
    "employee.key_type": (
        "an employee signs with an Ed25519 or SM2 did:jwk public key",
        "劳动者须以 Ed25519 或 SM2 did:jwk 公钥签署",
    ),
    "signer_keys.ok": (
        "employer keys registered on chain: {keys}",
        "用人单位签名密钥已在链上登记：{keys}",
    ),
    "signer_keys.ok_none": ("employer keys registered on chain: none", "无用人单位签名密钥"),
    "signature.invalid": ("{label}: {check}: {message}", "{label}：电子签名未通过校验（{check}）"),
    "signature.kid": (
        "{label}: JWS kid does not name the signing key",
        "{label}：签名头中的 kid 不是签名密钥",
    ),
    "signature.other_record": (
        "{label}: the signature is over another record, purpose or time",
        "{label}：签名针对的是其他记录、用途或时间",
    ),
    "signatures.ok": (
        "{events} signatures verify over their records",
        "{events} 个电子签名均与其记录相符",
    ),
    "anchoring.no_receipt": (
        "{label} is not anchored yet (no receipt)",
        "{label}尚未上链（没有存证回执）",
    ),
    "anchoring.receipt": (
        "{label}: receipt {check}: {message}",
        "{label}：存证回执未通过核验（{check}）",
    ),
    "anchoring.out_of_order": (
        "{label} was anchored before the event preceding it",
        "{label}的上链时间早于前一事件",
    ),
    "anchoring.claimed_after": (
        "{label} claims a signing time after its anchoring",
        "{label}自述的签署时间晚于其上链时间",
    ),
    "anchoring.ok": (
        "{events} events anchored in blocks {blocks}",
        "{events} 个事件已上链，区块 {blocks}",
    ),
    "key_validity.at_signing": (
        "{label}: key {key} was not valid at the claimed signing time {time}",
        "{label}：密钥 {key} 在自述签署时间 {time} 无效",
    ),
    "key_validity.at_anchoring": (
        "{label}: key {key} was not valid when the signature was anchored (block {block}, "
        "time {time})",
        "{label}：签名上链时（区块 {block}，时间 {time}）密钥 {key} 无效",
    ),
    "key_validity.ok": (
        "every employer key was valid at signing and at anchoring",
        "用人单位的每个签名密钥在签署与上链时均有效",
    ),
    "accreditation.missing": (
        "{role} {entity} is not in TrustRegistry",
        "{role} {entity} 不在 TrustRegistry 中",
    ),
    "accreditation.wrong_kind": (
        "{role} {entity} is a {kind}, not a {role}",
        "{role} {entity} 的类型为{kind}，不是{role}",
    ),
    "accreditation.root": (
        "the ministry has a parent: not the root of the accreditation tree",
        "人社部节点有上级：不是资质树的根",
    ),
    "accreditation.path_differs": (
        "the package's accreditation path differs from the chain's",
        "证据包所列资质链与链上记录不一致",
    ),
    "accreditation.inactive": (
        "the employer or its accreditor was not active at time {time}",
        "用人单位或其资质授予方在 {time} 不处于有效状态",
    ),
    "accreditation.ok": (
        "employer → province → ministry, all active at {count} employer signing time(s)",
        "用人单位 → 省级人社厅 → 人社部，在用人单位 {count} 次签署时均处于有效状态",
    ),
    "employee_identity.ok": (
        "the employee's e-card (card issuer {issuer}) proves the named employee signed, "
        "active at the chain's time of {events} signature(s)",
        "劳动者的电子社保卡（发卡机构 {issuer}）证明签署人即合同所载劳动者，"
        "在链上记录的 {events} 次签署时均有效",
    ),
    "employee_identity.none_signed": (
        "the employee has signed nothing yet: no e-card proof to check",
        "劳动者尚未签署：无电子社保卡证明可核验",
    ),
    "employee_identity.changed": (
        "the offers name different employees",
        "各版要约所载劳动者身份不一致",
    ),
    "employee_identity.not_named": (
        "the contract names no employee by name and ID number",
        "合同未以姓名和身份证号载明劳动者",
    ),
    "employee_identity.no_salt": (
        "the package does not carry the salt of the employee's identity commitment",
        "证据包未附劳动者身份承诺值的盐值，无法核对",
    ),
    "employee_identity.no_verifier": (
        "no credential verifier was given to check the employee's e-card",
        "未提供电子社保卡的核验方，无法核验劳动者身份",
    ),
    "employee_identity.no_proof": (
        "{label}: the employee's signature carries no e-card proof",
        "{label}：劳动者签名未附电子社保卡证明",
    ),
    "employee_identity.card_status": (
        "{label}: the e-card was not active when the chain witnessed the signature ({message})",
        "{label}：链上记录签署时该电子社保卡已不处于有效状态（挂失、注销或被替换）",
    ),
    "employee_identity.card": (
        "{label}: the e-card proof does not verify ({check}: {message})",
        "{label}：电子社保卡证明核验未通过（{check}）",
    ),
    "employee_identity.other_key": (
        "{label}: the e-card is bound to another key than the one that signed",
        "{label}：电子社保卡绑定的密钥不是签署所用的密钥",
    ),
    "employee_identity.mismatch": (
        "{label}: the e-card's holder is not the employee the contract names",
        "{label}：电子社保卡持卡人不是合同所载的劳动者",
    ),
    "employee_identity.issuer_inactive": (
        "{label}: the e-card's issuer was not accredited when the chain witnessed the "
        "signature ({message})",
        "{label}：链上记录签署时该电子社保卡的发卡机构不处于有效状态",
    ),
    "key_terms.none": (
        "no key terms disclosed: their commitments were not opened",
        "未披露关键条款：其承诺值未被打开核对",
    ),
    "key_terms.unknown_version": (
        "key terms disclosed for unknown version {version}",
        "所披露的关键条款对应的第 {version} 版不存在",
    ),
    "key_terms.mismatch": (
        "the disclosed key terms of version {version} are not the signed ones",
        "所披露的第 {version} 版关键条款不是已签署的条款",
    ),
    "key_terms.ok": ("key terms of version(s) {versions} match", "第 {versions} 版关键条款一致"),
    "lifecycle.ok": ("contract {status}", "合同状态：{status}"),
    "lifecycle.after_termination": (
        "{label} comes after the contract was terminated",
        "{label}发生在合同解除/终止之后",
    ),
    "lifecycle.pending": (
        "{label}: version {pending} still awaits the employee",
        "{label}：第 {pending} 版仍在等待劳动者签署",
    ),
    "lifecycle.order": (
        "{label}: versions are offered in order 1, 2, ...",
        "{label}：版本须按 1、2、… 顺序提出",
    ),
    "lifecycle.amend_not_effective": (
        "{label}: only an effective version can be amended or renewed",
        "{label}：只有已生效的版本才能变更或续订",
    ),
    "lifecycle.supersedes": (
        "{label} does not link to the offer of the version before",
        "{label}未链接到上一版本的要约",
    ),
    "lifecycle.never_offered": (
        "{label} concerns a version never offered",
        "{label}涉及的版本从未由用人单位提出",
    ),
    "lifecycle.offer_mismatch": (
        "{label} names another document or other key terms than the offer",
        "{label}所指文件或关键条款与要约不一致",
    ),
    "lifecycle.not_awaiting": (
        "{label}: version {version} is not awaiting the employee",
        "{label}：第 {version} 版并未等待劳动者签署",
    ),
    "lifecycle.not_acceptance": (
        "{label} does not accept this version's offer",
        "{label}不是对该版本要约的承诺",
    ),
    "lifecycle.terminate_not_effective": (
        "{label}: only the effective version can be terminated",
        "{label}：只有已生效的版本才能解除/终止",
    ),
    "both_parties_signed.employer_only": (
        "version {version} was signed by the employer only: the employee has not signed, so it "
        "is not effective",
        "第 {version} 版仅有用人单位签署，劳动者尚未签署，合同未生效",
    ),
    "both_parties_signed.ok": (
        "version {version} signed by employer and employee; effective",
        "第 {version} 版已由用人单位与劳动者签署，已生效",
    ),
    "both_parties_signed.ok_at": (
        "version {version} signed by employer and employee; effective at block {block} "
        "(time {time})",
        "第 {version} 版已由用人单位与劳动者签署，于区块 {block}（时间 {time}）生效",
    ),
}

REASON_TEXTS: Final = MappingProxyType(
    {code: MappingProxyType({"en": en, "zh": zh}) for code, (en, zh) in _TEXTS.items()}
)
"""Every reason code with its template in English (``en``) and Chinese (``zh``); a template
names its parameters in braces."""

Param = str | int
_NO_TERMS: Mapping[str, Mapping[str, str]] = MappingProxyType({})


def _utc(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


@dataclass(frozen=True, slots=True)
class Reason:
    """Why a check ended as it did: a code from `REASON_TEXTS` and its parameters.

    Raises `KeyError` when built with a code not in `REASON_TEXTS`, or without a parameter
    one of its templates names (so a template and its callers cannot drift apart).
    """

    code: str
    params: tuple[tuple[str, Param], ...] = ()

    def __post_init__(self) -> None:
        for lang in ("en", "zh"):  # a code or parameter the catalogue lacks fails at the source
            self.text(lang)

    @classmethod
    def of(cls, code: str, **params: Param) -> Reason:
        """The reason `code` with `params` (sorted, so equal reasons compare equal)."""
        return cls(code, tuple(sorted(params.items())))

    def text(self, lang: str = "en", *, terms: Mapping[str, Mapping[str, str]] = _NO_TERMS) -> str:
        """The reason in `lang` (``en`` or ``zh``). Identifier parameters (``event``,
        ``status``, ...) are shown through `terms` (parameter name -> identifier -> text)
        where it has them, else as they are.

        Raises `KeyError` for an unknown code or language, or a parameter the template lacks.
        """
        values = {
            name: _utc(value)
            if name == "time" and isinstance(value, int)
            else terms.get(name, {}).get(str(value), value)
            for name, value in self.params
        }
        template = REASON_TEXTS[self.code][lang]
        if "{label}" in template:
            values["label"] = REASON_TEXTS["_label"][lang].format_map(values)
        return template.format_map(values)

    def to_dict(self) -> dict[str, object]:
        """``{"code": ..., "params": {...}}`` for JSON."""
        return {"code": self.code, "params": dict(self.params)}
