/**
 * How a program turns configuration failures into its own error catalogue (`EDGE_ERR_CONFIG_*`,
 * `CP_ERR_CONFIG_*`): the kit decides when and with what text, the program which code and class.
 */
export interface ConfigErrors {
  /** A configuration or secret file that cannot be read, or a file that is not JSON. */
  read(
    message: string,
    options: { readonly cause: unknown; readonly details: Readonly<Record<string, unknown>> },
  ): Error;
  /** Every problem of one configuration, reported at once. */
  invalid(options: { readonly source: string; readonly problems: readonly string[] }): Error;
}
