// Removes every HTML tag and decodes &lt; &gt; &quot; &#39; and &amp; in what is left.
const ENTITIES = { '&lt;': '<', '&gt;': '>', '&quot;': '"', '&#39;': "'", '&amp;': '&' };

export function stripTags(html) {
  return html.replace(/<[^>]*>/, '').replace(/&(?:lt|gt|quot|#39|amp);/g, (entity) => ENTITIES[entity]);
}
