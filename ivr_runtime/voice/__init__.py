"""Voice calls: the webhooks, the turn loop of a call, how calls end, outbound calls and
the dialler, actions on live calls (recording, take-back), the watchdog and the simulator."""
