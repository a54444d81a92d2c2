"""The "Needs action" view: warnings awaiting our feedback, alerts that failed the signature
check, our alerts that others answered — and nothing else (real hub, tampered store)."""

from __future__ import annotations

import time
from typing import Any

from hub.storage import AppendRequest
from tests.desktop import samples
from tests.desktop.conftest import CH, FAST, DeskFactory, open_window
from tests.harness import HubHarness
from tests.pki import Leaf


async def test_needs_action_lists_what_awaits_the_officer(
    hub: HubHarness, members: dict[str, Leaf], desk: DeskFactory, qtbot: Any
) -> None:
    async with hub.client(members["fr"], **FAST) as fr, hub.client(members["de"], **FAST) as de:
        answered = await de.publish(CH, "warning", samples.warning("answered already"))  # 1
        waiting = await de.publish(CH, "warning", samples.warning("still waiting"))  # 2
        gone = await de.publish(CH, "warning", samples.warning("withdrawn"))  # 3
        await de.publish(CH, "withdrawal", {"schema": 1, "handling": "H0", "ref": gone.alert_id,
                                            "reason": "sent by mistake"})  # 4
        await fr.publish(CH, "feedback", samples.feedback(answered.alert_id, "inspected"))  # 5
        ours = await fr.publish(CH, "warning", samples.warning("ours"))  # 6
        await de.publish(CH, "feedback", samples.feedback(ours.alert_id, "seized"))  # 7
        await fr.publish(CH, "seizure", samples.seizure(1))  # 8: ours, unanswered
        good = de.sign(CH, "seizure", samples.seizure(2, place="Bremen"))
        forged = good.alert.replace(b"Bremen", b"Bremer")
        await hub.store.append_batch([AppendRequest(
            channel=CH, alert_id=good.envelope.id, alert=forged, sig=good.sig, kid=de.kid,
            received=int(time.time() * 1000))])  # 9: fails verification
    window = await open_window(hub, desk(members["fr"]), qtbot)
    await hub.wait_for(lambda: window.proxy.rowCount() == 9)
    assert window.action_view.text() == "Needs action (3)"
    window.show_needs_action()
    assert window.action_view.isChecked()
    shown = sorted(r.offset for r in window.proxy.visible_rows())
    assert shown == [waiting.offset, ours.offset, 9]
    reasons = {r.offset: window.feed.needs_action(r) for r in window.proxy.visible_rows()}
    assert reasons == {2: "awaiting our feedback", 6: "answered by DE",
                       9: "failed the signature check"}
    # Answering the waiting warning takes it off the list, live.
    reply_to = next(r for r in window.proxy.visible_rows() if r.offset == waiting.offset)
    window.select_offset(reply_to.offset)
    dialog = window.reply_with_feedback()
    assert dialog is not None
    dialog.inputs["outcome"].set_value("nothing_found")
    dialog.submit()
    await hub.wait_for(lambda: window.action_view.text() == "Needs action (2)")
    assert sorted(r.offset for r in window.proxy.visible_rows()) == [ours.offset, 9]
    window.show_needs_action(False)
    assert window.proxy.rowCount() == 10
