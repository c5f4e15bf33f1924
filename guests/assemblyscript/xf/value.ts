/** A value that may be absent (`Value<T> | null`): what the Go SDK expresses with a pointer. */
export class Value<T> {
  constructor(public readonly value: T) {}
}
