import { useEffect, useState } from "preact/hooks";
import { allRecords, onOutbox } from "./outbox";
import type { OutboxRecord } from "./store";

/** The phone's records, newest first, re-read whenever the outbox changes (in any tab). */
export function useOutbox(): OutboxRecord[] {
  const [records, setRecords] = useState<OutboxRecord[]>([]);
  useEffect(() => {
    const load = () => void allRecords().then(setRecords);
    load();
    return onOutbox(load);
  }, []);
  return records;
}
