/** Error classes of the DASF client; every failure of a call rejects with one of them. */

/** Base class of every error the DASF client raises. */
export class DasfError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
    // keeps `instanceof` working when compiled to ES5-style classes
    Object.setPrototypeOf(this, new.target.prototype);
  }
}

/** A frame from the broker or a backend did not follow the DASF wire format. */
export class DasfProtocolError extends DasfError {}

/** A reply, or the incomplete replies together, grew past a memory bound of the client. */
export class DasfPayloadTooLargeError extends DasfProtocolError {}

/** The backend answered with an error response (`status: error`). */
export class DasfRemoteError extends DasfError {
  /** Python exception type reported by the backend (`dasf_error_type`), if any. */
  readonly errorType: string | undefined;
  /** Remote traceback (`dasf_traceback`), only sent by backends in debug mode. */
  readonly traceback: string | undefined;
  /** Topic of the module that failed. */
  readonly topic: string;

  constructor(message: string, topic: string, errorType?: string, traceback?: string) {
    super(message);
    this.topic = topic;
    this.errorType = errorType;
    this.traceback = traceback;
  }
}

/** The broker refused a publish (its ack `result` was not "ok"). */
export class DasfRefusedError extends DasfError {
  /** The broker's `result` text, e.g. "User is not allowed to publish to this topic". */
  readonly result: string;

  constructor(topic: string, result: string, errorMsg?: string) {
    super(
      `the broker refused the message to ${JSON.stringify(topic)}: ${result}` +
        (errorMsg ? ` (${errorMsg})` : '')
    );
    this.result = result;
  }
}

/** No reply (nor progress) arrived within the call's timeout. */
export class DasfTimeoutError extends DasfError {
  readonly timeoutMs: number;

  constructor(what: string, timeoutMs: number) {
    super(
      `${what} got no answer within ${timeoutMs} ms; is the module served? ` +
        'Raise timeoutMs for long calls, or report progress from the backend.'
    );
    this.timeoutMs = timeoutMs;
  }
}

/** The websocket to the broker could not be opened or was closed while a call ran. */
export class DasfConnectionError extends DasfError {}
