-- PostgreSQL's copy of ../0012_article_langs.sql.
UPDATE articles SET lang = '?' WHERE lang = '';
