/** Whether someone at a terminal can answer a question: deploy's confirmation and the generators' questions ask the same way. */

/** CI=true (or any value but "", "false" and "0") means nobody is there to answer. */
export function isCI(env: NodeJS.ProcessEnv): boolean {
  const value = (env.CI ?? '').trim().toLowerCase();
  return value !== '' && value !== 'false' && value !== '0';
}

/**
 * Why a prompt cannot be answered here, or null when someone at a terminal can answer it.
 * Inside an Nx task nobody can: Nx sets NX_TUI=false for every task and gives it the same
 * pseudo-terminal with or without its terminal UI, whose pane passes no keys to the task
 * until `i` is pressed. So a task cannot tell whether its question would be seen and
 * answered; NX_TASK_TARGET_PROJECT, which Nx sets for every task, says it is one.
 */
export function whyNoPrompt(env: NodeJS.ProcessEnv, stdin: { isTTY?: boolean }, stdout: { isTTY?: boolean }): string | null {
  if (isCI(env)) return 'CI is set';
  if (env.NX_TASK_TARGET_PROJECT) return 'it runs as an Nx task, and Nx may pass it no keys';
  if (!stdin.isTTY || !stdout.isTTY) return 'there is no terminal to ask on';
  return null;
}
