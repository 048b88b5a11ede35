/**
 * SNS's delivery to a subscriber, for the local stack. serverless-offline-sns
 * POSTs each message to its own HTTP route once, all at the same time, and
 * drops any that fails: under load (hundreds a second) the requests queue in
 * one busy process, the server resets them, and they are lost without a trace.
 * SNS instead retries a failed delivery and then uses the subscription's
 * redrive policy (its dead-letter queue). This does both: at most
 * `concurrency` deliveries in flight (the rest wait in order), each retried
 * after each of `delaysMs` on a network error or a 5xx, then `onGiveUp`.
 */
export interface DeliveryOptions {
  concurrency: number;
  delaysMs: readonly number[];
  /** One delivery attempt; resolves with the HTTP status, rejects on a network error. */
  send: (body: string, endpoint: string, raw: boolean) => Promise<number>;
  /** The redrive policy: the message goes to the dead-letter queue; a rejection goes to the log. */
  onGiveUp: (body: string, endpoint: string, reason: string) => Promise<void>;
  log: (line: string) => void;
  sleep: (ms: number) => Promise<void>;
}

export interface Delivery {
  /** Queues one message for one subscriber endpoint; resolves once it is delivered or given up. */
  deliver(body: string, endpoint: string, raw: boolean): Promise<void>;
  /** Messages queued or in flight. */
  backlog(): number;
}

export const snsDelivery = (o: DeliveryOptions): Delivery => {
  const waiting: (() => void)[] = [];
  let active = 0;
  let backlog = 0;
  const slot = async () => {
    if (active < o.concurrency) {
      active++;
      return;
    }
    // The releasing delivery hands its slot over: `active` stays as it is.
    await new Promise<void>((r) => waiting.push(r));
  };
  const release = () => {
    const next = waiting.shift();
    if (next) next();
    else active--;
  };

  const attempt = async (body: string, endpoint: string, raw: boolean): Promise<string | undefined> => {
    try {
      const status = await o.send(body, endpoint, raw);
      return status >= 500 ? `HTTP ${status}` : undefined;
    } catch (err) {
      return String((err as Error)?.message ?? err);
    }
  };

  return {
    backlog: () => backlog,
    deliver: async (body, endpoint, raw) => {
      backlog++;
      try {
        let failure: string | undefined;
        for (let i = 0; ; i++) {
          await slot();
          try {
            failure = await attempt(body, endpoint, raw);
          } finally {
            release();
          }
          if (failure === undefined) return;
          const delay = o.delaysMs[i];
          if (delay === undefined) break;
          await o.sleep(delay);
        }
        const reason = `SnsDeliveryFailed: ${o.delaysMs.length + 1} attempts to ${endpoint}, last: ${failure}`;
        o.log(reason);
        try {
          await o.onGiveUp(body, endpoint, reason);
        } catch (err) {
          // Never silent: the whole message goes to the log.
          o.log(`LOST by the dead-letter queue too (${String(err)}): ${body}`);
        }
      } finally {
        backlog--;
      }
    },
  };
};
