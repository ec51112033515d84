"""What each DP1 result means to a household, in zh-CN and English."""

from __future__ import annotations

from crypto import Result

# result -> (colour, headline zh, headline en, explanation zh, explanation en)
RESULT_TEXT: dict[Result, tuple[str, str, str, str, str]] = {
    Result.VALID: ("green", "有效", "Valid", "证件有效，状态正常（绿码）", "The pass is valid and in good standing (green)"),
    Result.CAUTION: ("yellow", "注意", "Caution", "证件有效，但有需要注意的情况（黄码）", "The pass is valid, with something to note (yellow)"),
    Result.RED: ("red", "警示", "Warning", "证件处于警示状态（红码），请谨慎", "The pass is under a warning (red); take care"),
    Result.REVOKED: ("grey", "已注销", "Revoked", "此证已被注销，不能再用于上门服务", "This pass has been revoked and is no longer valid"),
    Result.BAD_CODE: ("grey", "验证码不符", "Code mismatch", "动态码与服务器记录不符，可能不是本人手机", "The live code does not match: this may not be the holder's phone"),
    Result.STALE: ("grey", "码已过时", "Old code", "这看起来是截图或旧的二维码，请让对方打开手机上的实时二维码", "This looks like a screenshot or an old code: ask for the live code on the phone"),
    Result.FUTURE: ("grey", "时间不对", "Clock mismatch", "二维码的时间超前，请检查手机时间后重扫", "The code is from the future: check the phone's clock and scan again"),
    Result.EXPIRED: ("grey", "已过期", "Expired", "此证已过有效期", "This pass has expired"),
    Result.NOT_YET_VALID: ("grey", "尚未生效", "Not yet valid", "此证还没有到生效日期", "This pass is not valid yet"),
    Result.BAD_DEVICE_SIG: ("grey", "无效", "Invalid", "二维码不是由持证人手机生成的", "The code was not made by the holder's phone"),
    Result.BAD_ISSUER_SIG: ("grey", "伪造", "Forged", "证件签名无效，可能是伪造的", "The pass signature is invalid: it may be forged"),
    Result.UNKNOWN_ISSUER: ("grey", "来源不明", "Unknown issuer", "签发机构不在信任名单中", "The issuer is not on the trust list"),
    Result.MALFORMED: ("grey", "无法识别", "Unreadable", "二维码已损坏或不是上门服务证", "The code is damaged or is not a door-service pass"),
}

# What a wrong typed code answers, whether the number is unknown, not activated, or the code is wrong:
# one answer, so it tells nothing about which pass numbers exist.
WRONG_CODE_TEXT = ("grey", "号码或验证码不对", "Wrong pass number or code",
                   "请核对证号和手机二维码下方的六位数字后再试", "Check the pass number and the six digits under the QR on the phone, then try again")
