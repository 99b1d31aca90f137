import { useEffect, useId, useRef, type ReactElement, type ReactNode } from 'react';
import { Icon } from './icons';

interface DialogProps {
  title: string;
  description?: ReactNode;
  onClose: () => void;
  children: ReactNode;
  footer?: ReactNode;
  size?: 'small' | 'medium' | 'large';
  /**
   * false: only the dialog's own buttons close it; no corner button, and
   * Escape does nothing (a copy-once secret must not vanish on a stray key).
   */
  dismissible?: boolean;
}

/** Who opened each dialog; a dialog opened from inside another hands focus back to that one's opener. */
const openers = new WeakMap<Element, HTMLElement | null>();

/**
 * A modal built on <dialog>: showModal() makes the rest of the page inert, so
 * Tab stays inside and screen readers see only the dialog. Mounted means open;
 * on unmount focus returns to whatever opened it. Escape closes through
 * onClose, so the state that owns the dialog stays the one source of truth.
 */
export function Dialog({ title, description, onClose, children, footer, size = 'medium', dismissible = true }: DialogProps): ReactElement {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  const descriptionId = useId();
  const onCloseRef = useRef(onClose);
  onCloseRef.current = onClose;
  const dismissibleRef = useRef(dismissible);
  dismissibleRef.current = dismissible;

  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    let opener = document.activeElement instanceof HTMLElement && document.activeElement !== document.body ? document.activeElement : null;
    // "Create" opens the copy-once dialog as it closes itself (its busy button may have dropped focus to
    // <body>): focus goes back to what opened the first dialog.
    const parent = opener ? opener.closest('dialog') : Array.from(document.querySelectorAll('dialog[open]')).find((d) => d !== dialog);
    if (parent && parent !== dialog) opener = openers.get(parent) ?? opener;
    openers.set(dialog, opener);
    if (!dialog.open) dialog.showModal();
    const first = dialog.querySelector<HTMLElement>('[data-autofocus]');
    first?.focus();
    const cancel = (event: Event) => {
      event.preventDefault();
      if (dismissibleRef.current) onCloseRef.current();
    };
    // Refusing `cancel` is not enough: Chromium closes the dialog anyway on a
    // second Escape with no click in between (its rule against pages that trap
    // users). A refused keydown never becomes a close request at all.
    const holdEscape = (event: KeyboardEvent) => {
      if (event.key === 'Escape' && !dismissibleRef.current) event.preventDefault();
    };
    // What still closes it (a phone's Back gesture is a close request too) finds it open again.
    const reopen = () => {
      if (!dismissibleRef.current && !dialog.open) dialog.showModal();
    };
    dialog.addEventListener('cancel', cancel);
    dialog.addEventListener('close', reopen);
    document.addEventListener('keydown', holdEscape);
    return () => {
      dialog.removeEventListener('cancel', cancel);
      dialog.removeEventListener('close', reopen);
      document.removeEventListener('keydown', holdEscape);
      if (dialog.open) dialog.close();
      if (opener?.isConnected) opener.focus();
      else document.getElementById('screen-title')?.focus();
    };
  }, []);

  return (
    <dialog ref={ref} className={`dialog dialog--${size}`} aria-labelledby={titleId} aria-describedby={description ? descriptionId : undefined}>
      <header className="dialog__header">
        <h2 id={titleId} className="dialog__title">
          {title}
        </h2>
        {dismissible ? (
          <button type="button" className="icon-button" aria-label="Close" onClick={onClose}>
            <Icon name="close" size={18} />
          </button>
        ) : null}
      </header>
      {description ? (
        <div id={descriptionId} className="dialog__description">
          {description}
        </div>
      ) : null}
      <div className="dialog__body">{children}</div>
      {footer ? <footer className="dialog__footer">{footer}</footer> : null}
    </dialog>
  );
}

export function ConfirmDialog({ title, children, confirmLabel, busy, onConfirm, onCancel, error }: { title: string; children: ReactNode; confirmLabel: string; busy?: boolean; onConfirm: () => void; onCancel: () => void; error?: ReactNode }): ReactElement {
  return (
    <Dialog
      title={title}
      onClose={onCancel}
      size="small"
      footer={
        <>
          <button type="button" className="button" onClick={onCancel} data-autofocus>
            Cancel
          </button>
          <button type="button" className="button button--danger" onClick={onConfirm} disabled={busy}>
            {busy ? 'Working…' : confirmLabel}
          </button>
        </>
      }
    >
      <div className="stack">
        {children}
        {error}
      </div>
    </Dialog>
  );
}
