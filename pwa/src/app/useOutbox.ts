import { useEffect, useState } from "preact/hooks";
import { allRecords, onOutbox } from "./outbox";
import type { OutboxRecord } from "./store";

/** The phone's records, newest first, re-read whenever the outbox changes (in any tab). Records set aside
 * (`discarded`) are left out unless asked for: they are no visit, attendance or review any more. */
export function useOutbox(withDiscarded = false): OutboxRecord[] {
  const [records, setRecords] = useState<OutboxRecord[]>([]);
  useEffect(() => {
    const load = () => void allRecords(withDiscarded).then(setRecords);
    load();
    return onOutbox(load);
  }, [withDiscarded]);
  return records;
}
