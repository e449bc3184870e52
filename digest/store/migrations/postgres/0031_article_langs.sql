-- PostgreSQL's copy of ../0031_article_langs.sql.
UPDATE articles SET lang = '?' WHERE lang = '';
