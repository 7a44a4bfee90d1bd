// Entry of the UI chunk (/s/ui.<hash>.js) that the core snippet loads: hands ui.js over.
import * as ui from './ui.js';

window.__accordUi = ui;
