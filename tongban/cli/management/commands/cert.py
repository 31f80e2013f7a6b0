"""tongban cert verify|revoke|pdf|keygen — electronic certificates (电子证照)."""

import sys
from pathlib import Path

from django.core.management.base import CommandError

from tongban.cli.base import TongbanCommand


class Command(TongbanCommand):
    help = "电子证照：离线核验二维码、撤销、导出 PDF、生成签名密钥"

    def add_subcommands(self, sub) -> None:
        p = sub.add_parser(
            "verify",
            help="离线核验证照二维码内容（只用公钥，不连数据库）；签名有效退出码 0，否则 1",
        )
        p.add_argument(
            "payload",
            metavar="QR_PAYLOAD",
            help="扫码得到的内容：核验网址 http…/verify/编号?sig=…，或旧证照的 TB1|…"
            "（请加引号；- 表示从标准输入读取，"
            "如 zbarimg --raw -q 证照.png | tongban cert verify -）",
        )
        p.add_argument(
            "--public-key",
            action="append",
            default=[],
            metavar="KEY_ID:BASE64",
            help="另加一个核验公钥（可重复），补充 TONGBAN_CERT_PUBLIC_KEYS",
        )
        p = sub.add_parser("revoke", help="撤销证照（须填写理由）")
        p.add_argument("number", metavar="NUMBER")
        p.add_argument("--reason", required=True)
        p.add_argument("--as", dest="as_user", required=True, metavar="USER")
        p = sub.add_parser("pdf", help="导出证照 PDF")
        p.add_argument("number", metavar="NUMBER")
        p.add_argument("-o", "--output", metavar="FILE", help="输出文件（默认：<编号>.pdf）")
        p = sub.add_parser("keygen", help="生成一个 Ed25519 签名密钥（写入 TONGBAN_CERT_KEYS）")
        p.add_argument("--id", dest="key_id", default="", help="密钥编号（默认按日期生成）")

    def do_verify(self, payload, public_key, **_):
        from tongban.documents.signing import UNKNOWN_KEY
        from tongban.services.certificates import read_scan, verify_offline

        if payload == "-":
            payload = sys.stdin.read()
        scan = read_scan(payload)  # the address a QR holds, or a bare TB1|… payload
        if not scan.payload:
            raise CommandError(
                f"只有证照编号 {scan.number}，没有签名，无法离线核验："
                "请扫描证照上的二维码，或访问核验页面查询",
                returncode=1,
            )
        result = verify_offline(scan.payload, ",".join(public_key))
        if result.signed is not None and result.number != scan.number:
            # A genuine payload of another certificate behind this one's address.
            raise CommandError(
                f"核验结果：网址中的证照编号 {scan.number} 与签名内容（{result.number}）不符",
                returncode=1,
            )
        if result.signed is not None:
            s = result.signed
            self.stdout.write(f"证照编号：{s.number}")
            self.stdout.write(f"事项代码：{s.matter}")
            self.stdout.write(f"持证人：{s.holder or '—'}")
            self.stdout.write(f"有效期限：{s.valid_from or '—'} 至 {s.valid_to or '—'}")
            self.stdout.write(f"签发时间：{s.issued_at}")
            self.stdout.write(f"签名密钥：{result.key_id}")
        if not result.ok:
            hint = ""
            if result.code == UNKNOWN_KEY and result.key_id.startswith("dev-"):
                hint = "（开发密钥只在 TONGBAN_DEBUG=1 或 TONGBAN_DEMO=1 且 SECRET_KEY 相同时可用）"
            raise CommandError(f"核验结果：{result.message}{hint}", returncode=1)
        self.stdout.write("核验结果：签名有效（仅核验签名；撤销和有效期请访问核验页面）")

    def do_revoke(self, number, reason, as_user, **_):
        from tongban.services import certificates
        from tongban.services.context import user_by_name

        cert = certificates.revoke(number, reason, user_by_name(as_user))
        self.stdout.write(f"已撤销证照 {cert.number}：{cert.revoke_reason}")

    def do_pdf(self, number, output, **_):
        from tongban.services import certificates

        data = certificates.pdf_bytes(certificates.get(number))
        path = Path(output or f"{number}.pdf")
        try:
            path.write_bytes(data)
        except OSError as exc:
            raise CommandError(f"无法写入 {path}：{exc.strerror}") from None
        self.stdout.write(f"已导出 {path}（{len(data)} 字节）")

    def do_keygen(self, key_id, **_):
        from datetime import date

        from tongban.documents.signing import KEY_ID_RE, generate

        key_id = key_id or f"k{date.today():%Y%m%d}"
        if not KEY_ID_RE.match(key_id):
            raise CommandError("密钥编号只能由字母、数字和 . _ - 组成（至多 40 个字符）")
        private, public = generate()
        self.stdout.write(f"TONGBAN_CERT_KEYS={key_id}:{private}")
        self.stdout.write(f"TONGBAN_CERT_PUBLIC_KEYS={key_id}:{public}")
        self.stderr.write(
            "私钥只显示这一次，请妥善保管，不要提交到代码仓库。轮换密钥时把新密钥放在"
            " TONGBAN_CERT_KEYS 最前面，旧密钥留在后面，旧证照仍可核验。"
        )
