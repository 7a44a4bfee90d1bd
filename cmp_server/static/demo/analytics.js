// Demo analytics tracker (kind: cookie, purpose: analytics): sets its cookies when it runs.
document.cookie = 'demo_analytics=' + Date.now() + '; path=/; max-age=34164000; SameSite=Lax';
document.cookie = '_demo_ga_1=GA1.1.' + Math.floor(Math.random() * 1e9) + '; path=/; max-age=34164000; SameSite=Lax';
window.demoRan = Object.assign(window.demoRan || {}, { cookie: true });
