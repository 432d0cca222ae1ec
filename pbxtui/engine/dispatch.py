"""Which driver method carries out which request (the policy has already let it through)."""

from __future__ import annotations

from pbxtui.drivers.base import Driver
from pbxtui.drivers.media import media_for
from pbxtui.model import (
    ActionRequest,
    ActionResult,
    AttendedTransfer,
    BlindTransfer,
    Callback,
    CampaignControl,
    DeleteVoicemail,
    Hangup,
    IvrCallRequest,
    PauseAgent,
    PlaceCall,
    QueueCallback,
    QueueReset,
    RebootPeer,
    ScheduleCall,
    SetFlow,
    UnpauseAgent,
    UnregisterPeer,
)


async def dispatch(driver: Driver, request: ActionRequest) -> ActionResult:
    """Send ``request`` through ``driver``. Directory fetches and the second step of an
    attended transfer are not single driver calls: the engine does those itself."""
    match request:
        case Hangup(call=call):
            return await driver.hangup(call)
        case BlindTransfer(call=call, destination=destination):
            return await driver.transfer(call, destination)
        case AttendedTransfer(call=call, destination=destination):
            return await driver.attended_transfer(call, destination)
        case PauseAgent(agent=agent, reason=reason):
            return await driver.pause_agent(agent, reason)
        case UnpauseAgent(agent=agent):
            return await driver.unpause_agent(agent)
        case PlaceCall(dial=dial) | ScheduleCall(dial=dial):
            return await driver.click2call(dial)
        case Callback(number1=number1, number2=number2):
            return await driver.callback(number1, number2)
        case IvrCallRequest(ivr=ivr):
            return await driver.call_ivr(ivr)
        case QueueCallback(number=number, queue=queue, source=source, max_dial=max_dial):
            return await driver.queue_callback(number, queue, source, max_dial)
        case SetFlow(flow=flow, state=state, value=value):
            return await driver.set_flow(flow, state, value)
        case QueueReset(queue=queue):
            return await driver.reset_queue(queue)
        case CampaignControl(campaign=campaign, verb=verb):
            return await driver.campaign(campaign, verb)
        case RebootPeer(peer=peer):
            return await driver.reboot_peer(peer)
        case UnregisterPeer(peer=peer):
            return await driver.unregister_peer(peer)
        case DeleteVoicemail(message=message):
            return await media_for(driver).delete_voicemail(message)
    raise AssertionError(f"no driver method for {request.kind}")
