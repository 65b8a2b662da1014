"""How the browser's own `<select>` looks beside the theme's fields: a 44 px target, 16 px text
(a phone zooms into anything smaller), the theme's border."""

from __future__ import annotations

SELECT_STYLE = {
    "minHeight": "44px", "fontSize": "16px", "padding": "8px", "borderRadius": "8px",
    "border": "1px solid var(--gray-7)", "background": "white", "width": "100%",
}
