import { useId, useState, type FormEvent, type KeyboardEvent, type ReactElement } from 'react';
import { Icon } from '../../components/icons';

/** The message box, with Send, or Stop while an answer streams. Enter sends, Shift+Enter starts a new line. */
export function Composer({ streaming, disabled, onSend, onStop }: { streaming: boolean; disabled: boolean; onSend: (text: string) => void; onStop: () => void }): ReactElement {
  const [text, setText] = useState('');
  const id = useId();
  const submit = (event?: FormEvent) => {
    event?.preventDefault();
    if (streaming || disabled || !text.trim()) return;
    onSend(text);
    setText('');
  };
  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    if (event.key === 'Enter' && !event.shiftKey && !event.nativeEvent.isComposing) submit(event);
  };
  return (
    <form className="composer" onSubmit={submit}>
      <label className="visually-hidden" htmlFor={id}>
        Message
      </label>
      <textarea id={id} className="input composer__input" rows={2} value={text} onChange={(e) => setText(e.target.value)} onKeyDown={onKeyDown} placeholder="Ask the model something" disabled={disabled} data-testid="playground-input" />
      {streaming ? (
        <button type="button" className="button button--danger composer__button" onClick={onStop} data-testid="playground-stop">
          <Icon name="stop" size={16} /> Stop
        </button>
      ) : (
        <button type="submit" className="button button--primary composer__button" disabled={disabled || !text.trim()} data-testid="playground-send">
          <Icon name="send" size={16} /> Send
        </button>
      )}
    </form>
  );
}
