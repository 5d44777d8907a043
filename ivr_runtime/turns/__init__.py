"""A turn of a call, whatever the channel: the session store (read, conditional write,
steps), the effects a turn asks for, the definitions it runs and the time it may take."""
