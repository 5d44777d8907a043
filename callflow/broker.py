"""The embedded broker: kombu's filesystem transport, made safe for several processes.

kombu's own transport writes a message file in place, and its reader moves and parses any
file it lists: a reader that lists the file while its writer (beat, the web process) is
still writing it gets half a JSON document and the worker dies on the `JSONDecodeError`.
Here (registered as `filesystem://` by `callflow.celery`):

- a message is written under a name the readers do not take (`….msg.part`) and renamed
  into the queue when complete, so a reader only ever sees whole files;
- a reader claims a file by renaming it into the processed folder (one reader wins; on
  the same file system, unlike kombu's move to the system's temporary folder), and a file
  it cannot parse is never fatal: one still locked by a writer (kombu's own, in another
  process) or younger than TORN_GRACE_SECONDS is put back for a later poll, an older one is
  moved to `broken/` beside the queue folder with a log line naming it;
- an exchange table (fanout bindings, in the control folder) that cannot be parsed is read
  again a moment later instead of failing the worker.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import logging
import os
import time
import uuid
from pathlib import Path

from kombu.transport import filesystem
from kombu.utils.json import dumps, loads

log = logging.getLogger(__name__)

#: a file that cannot be parsed this long after it was last written is not being written
TORN_GRACE_SECONDS = 10.0
PART = ".part"


class Channel(filesystem.Channel):
    def _put(self, queue, payload, **kwargs):  # type: ignore[no-untyped-def]
        name = f"{int(round(time.monotonic() * 1000))}_{uuid.uuid4()}.{queue}.msg"
        final = os.path.join(self.data_folder_out, name)
        part = final + PART
        try:
            with open(part, "xb") as file:
                file.write(dumps(payload).encode())
            os.rename(part, final)
        except OSError as exc:
            _remove(part)
            raise filesystem.ChannelError(f"Cannot add file {final!r} to directory") from exc

    def _get(self, queue):  # type: ignore[no-untyped-def]
        wanted = f"{queue}.msg"
        claim_folder = Path(self.processed_folder)
        claim_folder.mkdir(parents=True, exist_ok=True)
        for name in sorted(os.listdir(self.data_folder_in)):
            if name.partition(".")[2] != wanted:
                continue
            source = os.path.join(self.data_folder_in, name)
            claimed = str(claim_folder / name)
            try:
                os.rename(source, claimed)  # atomic: of several readers, one gets it
            except OSError:
                continue  # taken by another reader meanwhile
            payload = self._read_claimed(claimed, source)
            if payload is not None:
                return payload
        raise filesystem.Empty()

    def _read_claimed(self, claimed: str, source: str) -> object | None:
        """The message in a claimed file, or None (the file put back or moved aside)."""
        try:
            with open(claimed, "rb") as file:
                if not _lockable(file.fileno()):
                    raise ValueError("its writer still holds it")
                raw = file.read()
            payload = loads(raw.decode())
        except (ValueError, UnicodeDecodeError) as exc:
            self._torn(claimed, source, exc)
            return None
        except OSError as exc:
            raise filesystem.ChannelError(f"Cannot read file {claimed!r} from queue.") from exc
        if not self.store_processed:
            _remove(claimed)
        return payload

    def _torn(self, claimed: str, source: str, exc: Exception) -> None:
        try:
            age = time.time() - os.stat(claimed).st_mtime
        except OSError:
            return
        if age < TORN_GRACE_SECONDS:
            # still being written, most likely: back in the queue for a later poll
            try:
                os.rename(claimed, source)
            except OSError:
                log.warning("broker: could not put %s back in the queue", source)
            return
        broken = Path(self.data_folder_in).parent / "broken"
        broken.mkdir(parents=True, exist_ok=True)
        target = broken / os.path.basename(source)
        try:
            os.rename(claimed, target)
        except OSError:
            target = Path(claimed)
        log.error(
            "broker: %s cannot be read (%s) %.0f s after it was written: moved to %s "
            "(the outbox sweep hands its message over again)",
            os.path.basename(source),
            exc,
            age,
            target,
        )

    def get_table(self, exchange):  # type: ignore[no-untyped-def]
        for _ in range(20):
            try:
                return super().get_table(exchange)
            except ValueError:  # an exchange file caught while it is (re)written
                time.sleep(0.05)
        log.warning("broker: the exchange table of %r cannot be read: no bindings", exchange)
        return []


class Transport(filesystem.Transport):
    Channel = Channel


def _lockable(fd: int) -> bool:
    """False while another process holds the file's exclusive lock (kombu's writer)."""
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except OSError as exc:
        # another process holds it, or a file system without locks (the parse decides)
        return exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN)
    fcntl.flock(fd, fcntl.LOCK_UN)
    return True


def _remove(path: str) -> None:
    with contextlib.suppress(OSError):
        os.remove(path)
