"""The group-robot channels on their own (issue #11): DingTalk's markdown and signature, WeCom's
4,096-byte content ending with the project's link, the answers that are failures, and secrets kept
out of reprs and errors. Real local HTTP servers play the robots (tests/robot_servers.py)."""

from __future__ import annotations

import json
import urllib.parse
import urllib.request
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hostile_servers import dripping_answer, raw_server, redirecting_server
from hypothesis import given
from hypothesis import strategies as st
from robot_servers import robot_server
from servers import free_port

from notifications.channels import NoticeConfig, Outgoing
from notifications.robots import (
    WECOM_MAX_BYTES,
    DingTalkChannel,
    Robot,
    RobotError,
    WeComChannel,
    cut_utf8,
    dingtalk_sign,
    masked_url,
)
from states.errors import ConfigurationError

NOW = datetime(2025, 10, 22, 10, tzinfo=ZoneInfo("Asia/Shanghai"))
BASE = "https://gpw.example.gov.cn"
TOKEN = "7f3a9c0d1e2b4a5c8d6e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c"
SECRET = "SEC0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcd"


def notice(
    text: str = "大武口区民政局（购买主体）：\n\n项目：#12 入户核查员服务", pid: int = 12
) -> Outgoing:
    return Outgoing(
        id=5,
        key="7:reminder:1",
        project_id=pid,
        deadline_kind="payment_1",
        stage="reminder",
        subject="【提醒】入户核查员服务：第1期资金拨付截止 2025-10-23",
        text=text,
        html="",
        recipients=({"org": "大武口区民政局", "role": "purchaser", "name": ""},),
    )


def robot(server: object, *, secret: str | None = None, rid: int = 3) -> Robot:
    return Robot(id=rid, org="大武口区民政局", kind=server.kind, url=server.url, secret=secret)  # type: ignore[attr-defined]


def test_dingtalk_posts_a_signed_markdown_message_the_robot_accepts() -> None:
    with robot_server("dingtalk", TOKEN, SECRET) as server:
        server.at(NOW)
        DingTalkChannel(base_url=BASE).post(notice(), robot(server, secret=SECRET), NOW)
        (got,) = server.received
        assert got.errcode == 0, got.errmsg
        assert got.query["timestamp"] == str(int(NOW.timestamp() * 1000))
        body = got.json()
        assert body["msgtype"] == "markdown"
        assert body["markdown"]["title"] == notice().subject
        text = body["markdown"]["text"]
        assert text.startswith(f"#### {notice().subject}")
        assert "**提醒** · 项目 #12" in text and "项目：#12 入户核查员服务" in text
        assert text.endswith(f"[查看项目 #12]({BASE}/projects/12)")
        assert SECRET not in got.body.decode()  # the secret signs, it is never sent


def test_dingtalk_sign_is_the_documented_hmac_url_encoded() -> None:
    url = DingTalkChannel(base_url=BASE).request_url(
        Robot(
            id=1,
            org="o",
            kind="dingtalk",
            url=f"https://oapi.dingtalk.com/robot/send?access_token={TOKEN}",
            secret="this is secret",
        ),
        datetime.fromtimestamp(1_600_000_000, tz=ZoneInfo("UTC")),
    )
    sign = dingtalk_sign("this is secret", 1_600_000_000_000)
    query = url.split("?", 1)[1]
    assert query.startswith(f"access_token={TOKEN}&timestamp=1600000000000&sign=")
    # URL-encoded: the Base64 alphabet's + / = never appear raw in the query
    raw_sign = query.rsplit("sign=", 1)[1]
    assert not set(raw_sign) & set("+/=")
    assert urllib.parse.unquote_plus(raw_sign) == sign


def test_dingtalk_refuses_a_timestamp_more_than_an_hour_from_its_clock() -> None:
    with robot_server("dingtalk", TOKEN, SECRET) as server:
        server.at(NOW + timedelta(hours=1, minutes=1))
        with pytest.raises(RobotError) as caught:
            DingTalkChannel(base_url=BASE).post(notice(), robot(server, secret=SECRET), NOW)
        assert "310000" in str(caught.value)
        server.at(NOW + timedelta(minutes=59))
        DingTalkChannel(base_url=BASE).post(notice(), robot(server, secret=SECRET), NOW)
        assert server.codes() == [310000, 0]
        for text in (str(caught.value), repr(caught.value)):
            assert TOKEN not in text and SECRET not in text


def test_dingtalk_with_a_wrong_secret_is_refused_and_without_one_sends_no_signature() -> None:
    with robot_server("dingtalk", TOKEN, SECRET) as server:
        server.at(NOW)
        with pytest.raises(RobotError, match="310000"):
            DingTalkChannel(base_url=BASE).post(notice(), robot(server, secret="SECwrong"), NOW)
    with robot_server("dingtalk", TOKEN) as unsigned:
        DingTalkChannel(base_url=BASE).post(notice(), robot(unsigned), NOW)
        (got,) = unsigned.received
        assert got.errcode == 0 and set(got.query) == {"access_token"}


def test_wecom_cuts_a_long_text_to_4096_bytes_at_a_character_and_keeps_the_link() -> None:
    long_text = "\n".join(f"第{i}行：入户核查、信息比对与台账整理（含😀表情）" for i in range(400))
    with robot_server("wecom", TOKEN) as server:
        server.at(NOW)
        channel = WeComChannel(base_url=BASE)
        channel.post(notice(long_text), robot(server), NOW)
        (got,) = server.received
        assert got.errcode == 0, got.errmsg
        content = got.json()["markdown"]["content"]
        size = len(content.encode("utf-8"))
        assert WECOM_MAX_BYTES - 4 < size <= WECOM_MAX_BYTES  # cut, and no more than needed
        assert content.endswith(f"…\n\n[查看项目 #12]({BASE}/projects/12)")
        assert content.startswith("#### 【提醒】入户核查员服务")
        # a short notice is not cut
        channel.post(notice(), robot(server), NOW)
        short = server.received[-1].json()["markdown"]["content"]
        assert "…" not in short and "项目：#12 入户核查员服务" in short


def test_the_wecom_server_really_refuses_4097_bytes() -> None:
    """The test robot checks the limit (so the test above could fail)."""
    with robot_server("wecom", TOKEN) as server:
        for size, code in ((WECOM_MAX_BYTES, 0), (WECOM_MAX_BYTES + 1, 40058)):
            data = json.dumps({"msgtype": "markdown", "markdown": {"content": "a" * size}})
            request = urllib.request.Request(server.url, data=data.encode(), method="POST")
            with urllib.request.urlopen(request, timeout=10) as response:
                assert json.loads(response.read())["errcode"] == code


@given(st.text(max_size=300), st.integers(min_value=0, max_value=1200))
def test_cut_utf8_keeps_whole_characters_within_the_limit(text: str, limit: int) -> None:
    cut = cut_utf8(text, limit)
    assert text.startswith(cut)
    assert len(cut.encode("utf-8")) <= limit
    if cut != text:  # the next character would not have fitted
        assert len(text[: len(cut) + 1].encode("utf-8")) > limit


def test_an_errcode_answer_is_a_failure_naming_it_without_the_token() -> None:
    with robot_server("wecom", TOKEN) as server:
        server.fail_next, server.fail_code = 1, 93000
        server.fail_message = f"invalid webhook url, hint: key={TOKEN}"
        with pytest.raises(RobotError) as caught:
            WeComChannel(base_url=BASE).post(notice(), robot(server), NOW)
        message = str(caught.value)
        assert "errcode 93000" in message and "robot:3" in message
        assert TOKEN not in message and "****" in message


def test_an_unreachable_robot_fails_without_showing_its_url() -> None:
    port = free_port()  # nothing listens there
    gone = Robot(
        id=9, org="o", kind="wecom", url=f"http://127.0.0.1:{port}/cgi-bin/webhook/send?key={TOKEN}"
    )
    with pytest.raises(RobotError) as caught:
        WeComChannel(base_url=BASE, timeout=2).post(notice(), gone, NOW)
    assert "robot:9" in str(caught.value) and TOKEN not in str(caught.value)
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


def test_a_robot_address_that_redirects_fails_and_the_redirect_is_not_followed() -> None:
    """A 3xx is a failed delivery: urllib would have sent the message's GET to ``Location``
    (an internal address here) and kept what it answered in ``last_error``."""
    with redirecting_server() as (base, gets):
        moved = Robot(id=6, org="o", kind="wecom", url=f"{base}/302?key={TOKEN}")
        with pytest.raises(RobotError) as caught:
            WeComChannel(base_url=BASE).post(notice(), moved, NOW)
    assert "HTTP 302" in str(caught.value) and "internal" not in str(caught.value)
    assert gets == []


def test_a_robot_that_drips_its_answer_fails_at_the_deadline() -> None:
    """``timeout`` bounds the whole exchange, not each read: a byte every quarter second would
    have kept the relay for seconds under a per-read timeout of half a second."""
    with raw_server(dripping_answer()) as port:
        slow = Robot(
            id=7, org="o", kind="dingtalk", url=f"http://127.0.0.1:{port}/send?access_token={TOKEN}"
        )
        with pytest.raises(RobotError) as caught:
            DingTalkChannel(base_url=BASE, timeout=0.5).post(notice(), slow, NOW)
    assert "robot:7" in str(caught.value) and TOKEN not in str(caught.value)
    assert "DeadlineExceeded" in str(caught.value)


def test_reprs_and_listings_never_show_the_url_or_the_secret() -> None:
    r = Robot(
        id=4,
        org="大武口区民政局",
        kind="dingtalk",
        url=f"https://oapi.dingtalk.com/robot/send?access_token={TOKEN}",
        secret=SECRET,
    )
    for text in (repr(r), str(r), json.dumps(r.to_dict()), repr(DingTalkChannel(base_url=BASE))):
        assert TOKEN not in text and SECRET not in text
    assert r.to_dict()["url"] == "https://oapi.dingtalk.com/robot/send?access_token=****"
    assert r.to_dict()["secret"] == "****" and r.address == "robot:4"
    assert (
        masked_url(f"https://u:{SECRET}@h.example:8443/p?key={TOKEN}")
        == "https://****@h.example:8443/p?key=****"
    )


def test_the_channels_come_from_the_configuration_and_need_a_base_url() -> None:
    config = NoticeConfig.from_env(
        {
            "GPW_CHANNELS": "inbox,dingtalk,wecom",
            "GPW_BASE_URL": BASE + "/",
            "GPW_NOTICE_LANG": "en",
        }
    )
    built = config.build_channels()
    assert [c.name for c in built] == ["dingtalk", "wecom"]
    assert all(c.base_url == BASE and c.lang == "en" for c in built)  # type: ignore[attr-defined]
    for env in (
        {"GPW_CHANNELS": "wecom"},
        {"GPW_CHANNELS": "dingtalk", "GPW_BASE_URL": "ftp://gpw.example"},
        {"GPW_CHANNELS": "dingtalk", "GPW_BASE_URL": "gpw.example.gov.cn"},
    ):
        with pytest.raises(ConfigurationError) as caught:
            NoticeConfig.from_env(env)
        assert caught.value.field == "base_url"
        assert "base_url" in caught.value.message_zh and "base_url" in caught.value.message_en
    toml = NoticeConfig.from_mapping({"channels": ["inbox", "wecom"], "base_url": BASE})
    assert toml.base_url == BASE


def test_english_markdown_and_a_host_template(tmp_path: Path) -> None:
    message = DingTalkChannel(base_url=BASE, lang="en").message(notice())
    assert "**Reminder** · project #12" in message["markdown"]["text"]
    assert message["markdown"]["text"].endswith(f"[Open project #12]({BASE}/projects/12)")
    (tmp_path / "zh").mkdir()
    (tmp_path / "zh" / "robot.md").write_text(
        "【群】{{ subject }} / {{ stage_label }}", encoding="utf-8"
    )
    own = WeComChannel(base_url=BASE, template_dir=tmp_path).content(notice())
    assert own == f"【群】{notice().subject} / 提醒\n\n[查看项目 #12]({BASE}/projects/12)"
    (tmp_path / "zh" / "robot.md").write_text("{{ no_such_variable }}", encoding="utf-8")
    with pytest.raises(ConfigurationError) as caught:
        WeComChannel(base_url=BASE, template_dir=tmp_path)
    assert caught.value.field == "zh/robot.md"


def test_a_title_or_finding_is_shown_as_text_never_as_markdown() -> None:
    """A hostile title (a link to a look-alike site, an image, HTML, emphasis, a heading) reaches
    the group chat as the characters it is: no link, no image, no markup of its own."""
    title = (
        "[点此领取补贴](http://evil.example/x) ![](http://evil.example/p.png) <b>紧急</b> **加急**"
    )
    hostile = notice(text=f"项目：#12 {title}\n# 假标题\n> 假引用\n发现：`代码`")
    text = DingTalkChannel(base_url=BASE).markdown(hostile)
    for markup in ("](", "[点", "![", "<b>", "**加急**", "http://evil", "\n# ", "\n> 假", "`"):
        assert markup not in text, markup
    assert "［点此领取补贴］（" not in text  # only what makes markup changes: parentheses stay
    assert "［点此领取补贴］(http：//evil.example/x)" in text
    assert "＃ 假标题" in text and "＞ 假引用" in text and "项目：#12" in text
    assert text.startswith(f"#### {notice().subject}")  # the template's own markdown stands
    assert "**提醒** · 项目 #12" in text
