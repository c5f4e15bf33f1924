// The abort handler of task modules. The build points AssemblyScript's
// abort at it (--use abort=xf/abort/abortJob), so a runtime error such as
// an index out of range or an assertion ends the job with a message
// instead of importing env.abort, which the host does not provide.

import { failJob } from "./host";

/** Whether an abort is being reported: an abort while building the message (out of memory) must not recurse. */
let aborting = false;

export function abortJob(message: string | null, fileName: string | null, line: u32, column: u32): void {
  if (aborting) unreachable();
  aborting = true;
  let text = "guest aborted";
  if (message !== null) text += ": " + message;
  if (fileName !== null) text += " at " + fileName + ":" + line.toString() + ":" + column.toString();
  failJob(text);
}
