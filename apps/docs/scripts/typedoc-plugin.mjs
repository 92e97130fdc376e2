// A small typedoc plugin for the luzts site.
// - Adds a "Live demo" link at the top of every page's sidebar (the live page is not a typedoc page;
//   scripts/build.mjs bundles it into <out>/live/).
// - Rewrites `site:<path>` links (used in the guides for pages that typedoc does not generate,
//   e.g. `[the live demo](site:live/index.html)`) to a path relative to the page being rendered, so
//   they work at any depth and when the site is served from a sub-folder.
import { JSX, PageEvent } from 'typedoc';

/** @param {import('typedoc').Application} app */
export function load(app) {
  app.renderer.hooks.on('sidebar.begin', (context) =>
    JSX.createElement(
      'div',
      { class: 'luzts-site-links' },
      JSX.createElement('a', { href: context.relativeURL('live/index.html'), 'data-live-link': 'true' }, 'Live demo: train a model in your browser'),
    ),
  );
  app.renderer.on(PageEvent.END, (page) => {
    if (!page.contents) return;
    const depth = page.url.split('/').length - 1;
    const prefix = depth === 0 ? './' : '../'.repeat(depth);
    page.contents = page.contents.replace(/(href|src)="site:([^"]*)"/g, (_, attr, path) => `${attr}="${prefix}${path}"`);
  });
}
