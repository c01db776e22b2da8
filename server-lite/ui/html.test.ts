import t from 'tap';
import { escapeHtml, html, raw } from './html.ts';

t.test('html: interpolated text is escaped, nested html and raw are not', async (t) => {
  const name = '<script>alert("x")</script>&\'';
  t.equal(html`<td>${name}</td>`.text, '<td>&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;</td>');
  t.equal(html`<ul>${['a<', 'b'].map((x) => html`<li>${x}</li>`)}</ul>`.text, '<ul><li>a&lt;</li><li>b</li></ul>');
  t.equal(html`${raw('<b>')}${null}${undefined}${false}${0}`.text, '<b>0');
  t.equal(html`<a title="${'" onmouseover="x'}">`.text, '<a title="&quot; onmouseover=&quot;x">');
  t.equal(escapeHtml('plain'), 'plain');
});
