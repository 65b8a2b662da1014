/* A section that opens and closes, drawn only once it is first opened
 * (app/components/client_cards.py, `lazy_disclosure`).
 *
 * A closed form still costs a phone its React components at every load of the page (the
 * client page's three closed forms were most of what it drew). Here the panel's children are
 * drawn at the first opening and then kept while it is closed again, so what was typed stays.
 * Opening and closing never waits for the server. `onFirstOpen` runs once, after that first
 * drawing (e.g. to name a drop zone's file input). `openWhen` opens (and draws) it when it
 * becomes true: a form's fields inside it with an error to show. Give it a React `key` that
 * changes with the record on screen: a new record starts closed and undrawn. */
import { useEffect, useState } from "react";

export function DhLazyDisclosure({ label, buttonId, onFirstOpen, openWhen, children, ...rest }) {
  const [open, setOpen] = useState(false);
  const [drawn, setDrawn] = useState(false);
  const panelId = `${buttonId}-panel`;
  useEffect(() => {
    if (drawn && onFirstOpen) onFirstOpen();
    // Only after the first drawing, not when the handler's identity changes.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [drawn]);
  useEffect(() => {
    if (openWhen) {
      setOpen(true);
      setDrawn(true);
    }
  }, [openWhen]);
  const toggle = () => {
    setOpen(!open);
    setDrawn(true);
  };
  return (
    <div {...rest}>
      <button
        type="button"
        id={buttonId}
        className="dh-disclosure"
        aria-expanded={open ? "true" : "false"}
        aria-controls={panelId}
        onClick={toggle}
      >
        <span>{label}</span>
        <span className="dh-i dh-i-chevron-right dh-i-20 dh-disclosure-chevron" aria-hidden="true" />
      </button>
      <div id={panelId} hidden={!open}>
        {drawn ? children : null}
      </div>
    </div>
  );
}
