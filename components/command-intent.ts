/**
 * A remote command is its intent: the node, the version (or OS patch revision, or color) and the
 * action, all in its resource name. Nothing else it is given (the SSH connection, the script's
 * text, timeouts, drain flags, the command line) may make a command that succeeded run again.
 *
 * Why ignoreChanges: the command provider has no custom diff, so any changed input is an update,
 * and with no `update` the provider runs `create` again (pulumi-command v1.2.1
 * provider/pkg/provider/remote/commandController.go `Command.Update`). `ignoreChanges` sets each listed
 * input back to its value in the state before the engine diffs (pulumi v3.248
 * pkg/resource/deploy/step_generator.go `processIgnoreChanges`), so a finished command sees no
 * change. A command that failed is not in the state (a failed create records nothing), so its
 * next attempt is a create with this run's inputs: a fix to a failed step's flags applies.
 *
 * What follows: the state keeps the inputs of the run that created the command, and the engine
 * runs a `delete` hook with those (old connection and key, old script text). See README.md,
 * "When something fails, and how to resume".
 */

/** Every input of a `remote.Command` (command.remote.CommandArgs), so a finished command never runs again. */
export const FINISHED_COMMAND_IGNORES: readonly string[] = [
  "connection", "create", "update", "delete", "stdin", "environment", "logging", "triggers", "addPreviousOutputInEnv",
];
