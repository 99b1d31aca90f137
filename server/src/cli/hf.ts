// Placeholder; the Hugging Face access issue replaces this file.
export async function hfStatus(_o: { json?: boolean; verify?: boolean }): Promise<void> {}
export async function hfLogin(_o: { verify: boolean; adopt?: boolean }): Promise<void> {}
export async function hfLogout(): Promise<void> {}
export async function hfCheck(_model: string, _o: { json?: boolean }): Promise<void> {}
